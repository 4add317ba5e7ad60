use std::net::SocketAddr;

use anyhow::Context;
use pulse_auth::TokenRequest;
use pulse_coaching::CoachingApp;
use pulse_gateway::{GatewayApp, GatewayListeners};
use pulse_lean_coffee::LeanCoffeeApp;
use pulse_lists::ListsApp;
use pulse_service::stop_on_signal;
use pulse_tasks::TasksApp;
use tokio::net::TcpListener;

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
    let Suite {
        lists,
        lean_coffee,
        coaching,
        tasks,
        gateway,
    } = build_suite(&args).await?;
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

/// Every part of the suite, built and not yet running.
struct Suite {
    lists: ListsApp,
    lean_coffee: LeanCoffeeApp,
    coaching: CoachingApp,
    tasks: TasksApp,
    gateway: GatewayApp,
}

/// Binds all six listeners, and only then connects to NATS and to each
/// service's PostgreSQL. The default gRPC ports (50051-50054) lie inside the
/// kernel's ephemeral port range, so an outgoing connection opened before a
/// listener is bound may be given that listener's port ("address in use").
async fn build_suite(args: &SuiteArgs) -> anyhow::Result<Suite> {
    let lists_listener = bind(args.lists.lists_addr, "shopping-list service").await?;
    let lean_coffee_listener =
        bind(args.lean_coffee.lean_coffee_addr, "Lean Coffee service").await?;
    let coaching_listener = bind(args.coaching.coaching_addr, "coaching service").await?;
    let tasks_listener = bind(args.tasks.tasks_addr, "task-notification service").await?;
    let gateway_listeners = GatewayListeners::bind(&args.gateway)
        .await
        .context("starting the gateway")?;
    let (bus, validator) = connect(&args.common).await?;
    let master_key = args.common.master_key.master_key().context("master key")?;
    let retention = args.common.bus.event_retention;
    let lists = ListsApp::build_on(
        lists_listener,
        &args.lists,
        bus.clone(),
        retention,
        validator.clone(),
    )
    .await
    .context("starting the shopping-list service")?;
    let lean_coffee = LeanCoffeeApp::build_on(
        lean_coffee_listener,
        &args.lean_coffee,
        bus.clone(),
        retention,
        validator.clone(),
    )
    .await
    .context("starting the Lean Coffee service")?;
    let coaching = CoachingApp::build_on(
        coaching_listener,
        &args.coaching,
        bus.clone(),
        retention,
        validator.clone(),
    )
    .await
    .context("starting the coaching service")?;
    let tasks = TasksApp::build_on(
        tasks_listener,
        &args.tasks,
        bus.clone(),
        retention,
        master_key.clone(),
    )
    .await
    .context("starting the task-notification service")?;
    let mut gateway_config = args.gateway.clone();
    gateway_config.lists_url = format!("http://{}", lists.local_addr());
    gateway_config.lean_coffee_url = format!("http://{}", lean_coffee.local_addr());
    gateway_config.coaching_url = format!("http://{}", coaching.local_addr());
    gateway_config.tasks_url = format!("http://{}", tasks.local_addr());
    gateway_config.master_key = master_key;
    let gateway = GatewayApp::build_on(gateway_listeners, &gateway_config, bus, validator)
        .await
        .context("starting the gateway")?;
    Ok(Suite {
        lists,
        lean_coffee,
        coaching,
        tasks,
        gateway,
    })
}

/// A service's listener, bound before any outgoing connection (see
/// [`build_suite`]).
async fn bind(addr: SocketAddr, service: &str) -> anyhow::Result<TcpListener> {
    pulse_service::bind(addr)
        .await
        .with_context(|| format!("starting the {service}"))
}

async fn lists(args: ListsArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-lists", args.common.telemetry.log_format);
    let listener = bind(args.lists.lists_addr, "shopping-list service").await?;
    let (bus, validator) = connect(&args.common).await?;
    let retention = args.common.bus.event_retention;
    let app = ListsApp::build_on(listener, &args.lists, bus, retention, validator)
        .await
        .context("starting the shopping-list service")?;
    ready(&[("lists", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("shopping-list service")
}

async fn lean_coffee(args: LeanCoffeeArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-lean-coffee", args.common.telemetry.log_format);
    let listener = bind(args.lean_coffee.lean_coffee_addr, "Lean Coffee service").await?;
    let (bus, validator) = connect(&args.common).await?;
    let retention = args.common.bus.event_retention;
    let app = LeanCoffeeApp::build_on(listener, &args.lean_coffee, bus, retention, validator)
        .await
        .context("starting the Lean Coffee service")?;
    ready(&[("leanCoffee", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("Lean Coffee service")
}

async fn coaching(args: CoachingArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-coaching", args.common.telemetry.log_format);
    let listener = bind(args.coaching.coaching_addr, "coaching service").await?;
    let (bus, validator) = connect(&args.common).await?;
    let retention = args.common.bus.event_retention;
    let app = CoachingApp::build_on(listener, &args.coaching, bus, retention, validator)
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
    let listener = bind(args.tasks.tasks_addr, "task-notification service").await?;
    let bus = args
        .common
        .bus
        .connect()
        .await
        .context("connecting to NATS")?;
    let retention = args.common.bus.event_retention;
    let app = TasksApp::build_on(listener, &args.tasks, bus, retention, master_key)
        .await
        .context("starting the task-notification service")?;
    ready(&[("tasks", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("task-notification service")
}

async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-gateway", args.common.telemetry.log_format);
    let listeners = GatewayListeners::bind(&args.gateway)
        .await
        .context("starting the gateway")?;
    let (bus, validator) = connect(&args.common).await?;
    let mut config = args.gateway.clone();
    config.master_key = args.common.master_key.master_key().context("master key")?;
    let app = GatewayApp::build_on(listeners, &config, bus, validator)
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;
    use tokio::net::TcpStream;

    use super::*;
    use crate::cli::Cli;

    /// A port nothing listens on (bound by the OS, then released).
    async fn free_addr() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address")
    }

    #[tokio::test]
    async fn the_suite_binds_every_listener_before_its_first_outgoing_connection() {
        // A stand-in for NATS and PostgreSQL alike: it accepts and never
        // answers, so whichever connection the suite opens first waits here
        // (and the suite with it) while the test looks at the listeners. A
        // service's database connection is the one that would come before
        // its own or a later listener; NATS connects in the background.
        let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream_addr = upstream.local_addr().expect("address");
        let mut listeners = Vec::new();
        for _ in 0..6 {
            listeners.push(free_addr().await);
        }
        let database = |name: &str| format!("postgres://postgres@{upstream_addr}/{name}");
        let flags = [
            ("--lists-addr", listeners[0].to_string()),
            ("--lean-coffee-addr", listeners[1].to_string()),
            ("--coaching-addr", listeners[2].to_string()),
            ("--tasks-addr", listeners[3].to_string()),
            ("--gateway-addr", listeners[4].to_string()),
            ("--gateway-grpc-addr", listeners[5].to_string()),
            ("--nats-url", format!("nats://{upstream_addr}")),
            ("--database-url", database("lists")),
            ("--lean-coffee-database-url", database("lean_coffee")),
            ("--coaching-database-url", database("coaching")),
            ("--tasks-database-url", database("tasks")),
            ("--jwt-secret", "test-secret".to_owned()),
        ];
        let mut argv = vec!["pulse".to_owned(), "suite".to_owned()];
        for (flag, value) in flags {
            argv.extend([flag.to_owned(), value]);
        }
        let Command::Suite(args) = Cli::parse_from(argv).command else {
            panic!("not the suite command");
        };
        let starting = tokio::spawn(async move { build_suite(&args).await.map(|_| ()) });

        let (first_connection, _) =
            tokio::time::timeout(Duration::from_secs(15), upstream.accept())
                .await
                .expect("the suite connects out")
                .expect("accept");
        for addr in &listeners {
            assert!(
                TcpStream::connect(addr).await.is_ok(),
                "{addr} was not bound when the suite first connected out"
            );
        }
        drop(first_connection);
        starting.abort();
    }
}
