//! `pulse-tasks`: the task-notification service as its own process.

use anyhow::Context;
use clap::Parser;
use pulse_config::{BusArgs, MasterKeyArgs, TelemetryArgs};
use pulse_tasks::{TasksApp, TasksConfig};

/// The task-notification gRPC service (virtual keys, tasks, spend, notices).
#[derive(Debug, Parser)]
#[command(name = "pulse-tasks", version, about)]
struct Cli {
    #[command(flatten)]
    tasks: TasksConfig,
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    master_key: MasterKeyArgs,
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = pulse_telemetry::init("pulse-tasks", cli.telemetry.log_format);
    let master_key = cli.master_key.master_key().context("master key")?;
    // Bound before any outgoing connection, which could otherwise be given
    // the configured port (see `pulse_service::bind`).
    let listener = pulse_service::bind(cli.tasks.tasks_addr)
        .await
        .context("binding the listener")?;
    let bus = cli.bus.connect().await.context("connecting to NATS")?;
    let app = TasksApp::build_on(
        listener,
        &cli.tasks,
        bus,
        cli.bus.event_retention,
        master_key,
    )
    .await
    .context("starting the task-notification service")?;
    app.run_until_stopped(pulse_service::stop_on_signal())
        .await
        .context("task-notification service failed")
}
