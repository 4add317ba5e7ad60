//! `pulse-lists`: the shopping-list service as its own process.

use anyhow::Context;
use clap::Parser;
use pulse_config::{AuthArgs, BusArgs, TelemetryArgs};
use pulse_lists::{ListsApp, ListsConfig};
use tokio_util::sync::CancellationToken;

/// The shopping-list gRPC service.
#[derive(Debug, Parser)]
#[command(name = "pulse-lists", version, about)]
struct Cli {
    #[command(flatten)]
    lists: ListsConfig,
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    auth: AuthArgs,
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = pulse_telemetry::init("pulse-lists", cli.telemetry.log_format);
    let mut config = cli.lists;
    config.event_retention = cli.bus.event_retention;
    let validator = cli.auth.validator().context("authentication settings")?;
    let bus = cli.bus.connect().await.context("connecting to NATS")?;
    let app = ListsApp::build(&config, bus, validator)
        .await
        .context("starting the shopping-list service")?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown)
        .await
        .context("shopping-list service failed")
}

/// Ctrl-C or SIGTERM (what container runtimes send) stops the service.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested");
    shutdown.cancel();
}
