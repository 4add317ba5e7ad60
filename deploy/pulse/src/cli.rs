use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use pulse_config::{parse_duration, AuthArgs, BusArgs, MasterKeyArgs, TelemetryArgs};
use pulse_gateway::GatewayConfig;
use uuid::Uuid;

use crate::args::{ServiceCommand, ServiceConfigs};

#[derive(Debug, Parser)]
#[command(
    name = "pulse",
    version,
    about = "Real-time event platform: domain services and a SignalR gateway"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every service and the gateway in one process.
    Suite(Box<SuiteArgs>),
    #[command(flatten)]
    Service(ServiceCommand),
    /// Run the SignalR gateway only.
    Gateway(Box<GatewayArgs>),
    /// Print a signed JWT for a user (development and tests).
    MintToken(MintTokenArgs),
    /// Print the task hubs' event verification matrix (the README's table).
    EventMatrix,
}

#[derive(Debug, Args)]
pub struct SuiteArgs {
    #[command(flatten)]
    pub services: ServiceConfigs,
    #[command(flatten)]
    pub relay: RelayArgs,
    #[command(flatten)]
    pub gateway: GatewayConfig,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct GatewayArgs {
    #[command(flatten)]
    pub gateway: GatewayConfig,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Settings every process needs.
#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub bus: BusArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub master_key: MasterKeyArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// Settings of every domain service's outbox relay.
#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// How often a standby replica's outbox relay tries for the relay lock unasked; a stopping leader hands it over at once, so this bounds the takeover after one killed.
    #[arg(long, env = "PULSE_RELAY_STANDBY_RETRY", default_value = "2s", value_parser = parse_retry)]
    pub relay_standby_retry: Duration,
}

/// A retry interval: not zero, which would have every standby query
/// PostgreSQL in a loop.
fn parse_retry(value: &str) -> Result<Duration, String> {
    let retry = parse_duration(value)?;
    if retry.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(retry)
}

#[derive(Debug, Args)]
pub struct MintTokenArgs {
    #[command(flatten)]
    pub auth: AuthArgs,
    /// User id (`sub`); a new random one if omitted.
    #[arg(long)]
    pub sub: Option<Uuid>,
    /// Display name (`name`).
    #[arg(long, default_value = "Dev User")]
    pub name: String,
    /// Role (repeatable), e.g. `--role trainer`.
    #[arg(long = "role")]
    pub roles: Vec<String>,
    /// Lifetime of the token.
    #[arg(long, default_value = "12h", value_parser = parse_duration)]
    pub ttl: Duration,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;

    fn standby_retry(value: &str) -> Result<Duration, clap::Error> {
        let argv = ["pulse", "lists", "--relay-standby-retry", value];
        match Cli::try_parse_from(argv)?.command {
            Command::Service(command) => Ok(command.relay.relay_standby_retry),
            _ => panic!("not a service command"),
        }
    }

    #[test]
    fn the_standby_retry_is_a_duration_longer_than_zero() {
        assert_eq!(
            standby_retry("500ms").ok(),
            Some(Duration::from_millis(500))
        );
        assert!(standby_retry("0s").is_err());
        assert!(standby_retry("soon").is_err());
    }
}
