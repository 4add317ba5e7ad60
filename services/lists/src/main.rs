//! `pulse-lists`: the shopping-list service as its own process.

use anyhow::Context;
use clap::Parser;
use pulse_config::{AuthArgs, BusArgs, TelemetryArgs};
use pulse_lists::{ListsApp, ListsConfig};

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
    let validator = cli.auth.validator().context("authentication settings")?;
    // Bound before any outgoing connection, which could otherwise be given
    // the configured port (see `pulse_service::bind`).
    let listener = pulse_service::bind(cli.lists.lists_addr)
        .await
        .context("binding the listener")?;
    let bus = cli.bus.connect().await.context("connecting to NATS")?;
    let app = ListsApp::build_on(
        listener,
        &cli.lists,
        bus,
        cli.bus.event_retention,
        validator,
    )
    .await
    .context("starting the shopping-list service")?;
    app.run_until_stopped(pulse_service::stop_on_signal())
        .await
        .context("shopping-list service failed")
}
