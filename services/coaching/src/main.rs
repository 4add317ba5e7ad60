//! `pulse-coaching`: the coaching service as its own process.

use anyhow::Context;
use clap::Parser;
use pulse_coaching::{CoachingApp, CoachingConfig};
use pulse_config::{AuthArgs, BusArgs, TelemetryArgs};

/// The coaching gRPC service (chat, goals, notifications).
#[derive(Debug, Parser)]
#[command(name = "pulse-coaching", version, about)]
struct Cli {
    #[command(flatten)]
    coaching: CoachingConfig,
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
    let _telemetry = pulse_telemetry::init("pulse-coaching", cli.telemetry.log_format);
    let validator = cli.auth.validator().context("authentication settings")?;
    // Bound before any outgoing connection, which could otherwise be given
    // the configured port (see `pulse_service::bind`).
    let listener = pulse_service::bind(cli.coaching.coaching_addr)
        .await
        .context("binding the listener")?;
    let bus = cli.bus.connect().await.context("connecting to NATS")?;
    let app = CoachingApp::build_on(
        listener,
        &cli.coaching,
        bus,
        cli.bus.event_retention,
        validator,
    )
    .await
    .context("starting the coaching service")?;
    app.run_until_stopped(pulse_service::stop_on_signal())
        .await
        .context("coaching service failed")
}
