use anyhow::Context;
use pulse_auth::TokenRequest;
use pulse_gateway::GatewayApp;
use pulse_lists::ListsApp;
use tokio_util::sync::CancellationToken;

use crate::cli::{Command, CommonArgs, GatewayArgs, ListsArgs, MintTokenArgs, SuiteArgs};

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Suite(args) => suite(args).await,
        Command::Lists(args) => lists(args).await,
        Command::Gateway(args) => gateway(args).await,
        Command::MintToken(args) => mint_token(&args),
    }
}

async fn suite(args: SuiteArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-suite", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let lists = ListsApp::build(&args.lists, bus.clone(), validator.clone())
        .await
        .context("starting the shopping-list service")?;
    let mut gateway_config = args.gateway.clone();
    gateway_config.lists_url = format!("http://{}", lists.local_addr());
    let gateway = GatewayApp::build(&gateway_config, bus, validator)
        .await
        .context("starting the gateway")?;
    ready(&[
        ("gateway", format!("http://{}", gateway.local_addr())),
        ("lists", lists.local_addr().to_string()),
    ]);
    let stop = stop_on_signal();
    let (lists, gateway) = tokio::join!(
        lists.run_until_stopped(stop.clone()),
        gateway.run_until_stopped(stop.clone()),
    );
    lists.context("shopping-list service")?;
    gateway.context("gateway")?;
    Ok(())
}

async fn lists(args: ListsArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-lists", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let app = ListsApp::build(&args.lists, bus, validator)
        .await
        .context("starting the shopping-list service")?;
    ready(&[("lists", app.local_addr().to_string())]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("shopping-list service")
}

async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let _telemetry = pulse_telemetry::init("pulse-gateway", args.common.telemetry.log_format);
    let (bus, validator) = connect(&args.common).await?;
    let app = GatewayApp::build(&args.gateway, bus, validator)
        .await
        .context("starting the gateway")?;
    ready(&[("gateway", format!("http://{}", app.local_addr()))]);
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

/// Cancelled on SIGINT or SIGTERM.
fn stop_on_signal() -> CancellationToken {
    let stop = CancellationToken::new();
    let trigger = stop.clone();
    tokio::spawn(async move {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut terminate =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(signal) => signal,
                    Err(error) => {
                        tracing::error!(%error, "cannot listen for SIGTERM");
                        let _ = interrupt.await;
                        trigger.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = interrupt.await;
        tracing::info!("stopping");
        trigger.cancel();
    });
    stop
}
