use anyhow::Context;
use pulse_auth::TokenRequest;
use pulse_coaching::CoachingApp;
use pulse_gateway::GatewayApp;
use pulse_lean_coffee::LeanCoffeeApp;
use pulse_lists::ListsApp;
use pulse_service::stop_on_signal;
use pulse_tasks::TasksApp;

use crate::cli::{
    CoachingArgs, Command, CommonArgs, GatewayArgs, LeanCoffeeArgs, ListsArgs, MintTokenArgs,
    SuiteArgs, TasksArgs,
};

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Suite(args) => suite(*args).await,
        Command::Lists(args) => lists(args).await,
        Command::LeanCoffee(args) => lean_coffee(args).await,
        Command::Coaching(args) => coaching(args).await,
        Command::Tasks(args) => tasks(args).await,
        Command::Gateway(args) => gateway(*args).await,
        Command::MintToken(args) => mint_token(&args),
        Command::EventMatrix => {
            print!("{}", pulse_gateway::event_matrix_markdown());
            Ok(())
        }
    }
}

async fn suite(args: SuiteArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-suite", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let master_key = args.common.master_key.master_key().context("master key")?;
    let retention = args.common.bus.event_retention;
    let lists = ListsApp::build(&args.lists, bus.clone(), retention, validator.clone())
        .await
        .context("starting the shopping-list service")?;
    let lean_coffee =
        LeanCoffeeApp::build(&args.lean_coffee, bus.clone(), retention, validator.clone())
            .await
            .context("starting the Lean Coffee service")?;
    let coaching = CoachingApp::build(&args.coaching, bus.clone(), retention, validator.clone())
        .await
        .context("starting the coaching service")?;
    let tasks = TasksApp::build(&args.tasks, bus.clone(), retention, master_key.clone())
        .await
        .context("starting the task-notification service")?;
    let mut gateway_config = args.gateway.clone();
    gateway_config.lists_url = format!("http://{}", lists.local_addr());
    gateway_config.lean_coffee_url = format!("http://{}", lean_coffee.local_addr());
    gateway_config.coaching_url = format!("http://{}", coaching.local_addr());
    gateway_config.tasks_url = format!("http://{}", tasks.local_addr());
    gateway_config.master_key = master_key;
    let gateway = GatewayApp::build(&gateway_config, bus, validator)
        .await
        .context("starting the gateway")?;
    ready(&[
        ("gateway", format!("http://{}", gateway.local_addr())),
        ("gatewayGrpc", gateway.grpc_local_addr().to_string()),
        ("lists", lists.local_addr().to_string()),
        ("leanCoffee", lean_coffee.local_addr().to_string()),
        ("coaching", coaching.local_addr().to_string()),
        ("tasks", tasks.local_addr().to_string()),
    ]);
    let stop = stop_on_signal();
    let (lists, lean_coffee, coaching, tasks, gateway) = tokio::join!(
        lists.run_until_stopped(stop.clone()),
        lean_coffee.run_until_stopped(stop.clone()),
        coaching.run_until_stopped(stop.clone()),
        tasks.run_until_stopped(stop.clone()),
        gateway.run_until_stopped(stop.clone()),
    );
    lists.context("shopping-list service")?;
    lean_coffee.context("Lean Coffee service")?;
    coaching.context("coaching service")?;
    tasks.context("task-notification service")?;
    gateway.context("gateway")?;
    Ok(())
}

async fn lists(args: ListsArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-lists", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let retention = args.common.bus.event_retention;
    let app = ListsApp::build(&args.lists, bus, retention, validator)
        .await
        .context("starting the shopping-list service")?;
    ready(&[("lists", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("shopping-list service")
}

async fn lean_coffee(args: LeanCoffeeArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-lean-coffee", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let retention = args.common.bus.event_retention;
    let app = LeanCoffeeApp::build(&args.lean_coffee, bus, retention, validator)
        .await
        .context("starting the Lean Coffee service")?;
    ready(&[("leanCoffee", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("Lean Coffee service")
}

async fn coaching(args: CoachingArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-coaching", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let retention = args.common.bus.event_retention;
    let app = CoachingApp::build(&args.coaching, bus, retention, validator)
        .await
        .context("starting the coaching service")?;
    ready(&[("coaching", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("coaching service")
}

/// The task-notification service needs no JWT settings: its callers
/// present the master key or a virtual key.
async fn tasks(args: TasksArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-tasks", args.common.telemetry.log_format);
    let master_key = args.common.master_key.master_key().context("master key")?;
    let bus = args
        .common
        .bus
        .connect()
        .await
        .context("connecting to NATS")?;
    let retention = args.common.bus.event_retention;
    let app = TasksApp::build(&args.tasks, bus, retention, master_key)
        .await
        .context("starting the task-notification service")?;
    ready(&[("tasks", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("task-notification service")
}

async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-gateway", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let mut config = args.gateway.clone();
    config.master_key = args.common.master_key.master_key().context("master key")?;
    let app = GatewayApp::build(&config, bus, validator)
        .await
        .context("starting the gateway")?;
    ready(&[
        ("gateway", format!("http://{}", app.local_addr())),
        ("gatewayGrpc", app.grpc_local_addr().to_string()),
    ]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("gateway")
}

fn mint_token(args: &MintTokenArgs) -> anyhow::Result<()> {
    let validator = args.auth.validator()?;
    let ttl = i64::try_from(args.ttl.as_secs()).context("ttl too long")?;
    let token = validator.mint(&TokenRequest {
        sub: args.sub.unwrap_or_else(uuid::Uuid::new_v4),
        name: args.name.clone(),
        roles: args.roles.clone(),
        exp: chrono::Utc::now().timestamp() + ttl,
    })?;
    println!("{token}");
    Ok(())
}

async fn connect(
    common: &CommonArgs,
) -> anyhow::Result<(pulse_bus::Bus, pulse_auth::JwtValidator)> {
    let validator = common.auth.validator()?;
    let bus = common.bus.connect().await.context("connecting to NATS")?;
    Ok((bus, validator))
}

/// One JSON line on stdout once every listener is bound, so scripts and
/// tests can wait for it and read the ports (logs go to stderr).
fn ready(addresses: &[(&str, String)]) {
    let mut line = serde_json::Map::new();
    line.insert("ready".into(), true.into());
    for (name, address) in addresses {
        line.insert((*name).into(), address.clone().into());
    }
    println!("{}", serde_json::Value::Object(line));
}
