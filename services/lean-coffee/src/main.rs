//! `pulse-lean-coffee`: the Lean Coffee service as its own process.

use anyhow::Context;
use clap::Parser;
use pulse_config::{AuthArgs, BusArgs, TelemetryArgs};
use pulse_lean_coffee::{LeanCoffeeApp, LeanCoffeeConfig};

/// The Lean Coffee gRPC service.
#[derive(Debug, Parser)]
#[command(name = "pulse-lean-coffee", version, about)]
struct Cli {
    #[command(flatten)]
    lean_coffee: LeanCoffeeConfig,
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
    let _telemetry = pulse_telemetry::init("pulse-lean-coffee", cli.telemetry.log_format);
    let validator = cli.auth.validator().context("authentication settings")?;
    // Bound before any outgoing connection, which could otherwise be given
    // the configured port (see `pulse_service::bind`).
    let listener = pulse_service::bind(cli.lean_coffee.lean_coffee_addr)
        .await
        .context("binding the listener")?;
    let bus = cli.bus.connect().await.context("connecting to NATS")?;
    let app = LeanCoffeeApp::build_on(
        listener,
        &cli.lean_coffee,
        bus,
        cli.bus.event_retention,
        validator,
    )
    .await
    .context("starting the Lean Coffee service")?;
    app.run_until_stopped(pulse_service::stop_on_signal())
        .await
        .context("Lean Coffee service failed")
}
