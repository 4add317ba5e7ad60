//! The service's own settings. The bus and JWT settings are not here: a
//! process may embed several services sharing one bus connection, event
//! retention and validator, so [`crate::ListsApp::build`] takes those as
//! arguments.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use clap::Args;
use pulse_config::parse_duration;
use secrecy::SecretString;

#[derive(Debug, Clone, Args)]
pub struct ListsConfig {
    /// Address the shopping-list gRPC API listens on (port 0 picks a free port).
    #[arg(long, env = "PULSE_LISTS_ADDR", default_value = "127.0.0.1:50051")]
    pub lists_addr: SocketAddr,
    /// PostgreSQL URL of the shopping-list database; the database is created if missing.
    #[arg(
        long,
        env = "PULSE_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/pulse_lists",
        hide_env_values = true
    )]
    pub database_url: SecretString,
    /// Most connections the service opens to PostgreSQL.
    #[arg(long, env = "PULSE_DB_MAX_CONNECTIONS", default_value = "10")]
    pub db_max_connections: NonZeroU32,
    /// A list connection its gateway has not confirmed for this long is no longer present (UserLeft).
    #[arg(long, env = "PULSE_PRESENCE_TIMEOUT", default_value = "45s", value_parser = parse_duration)]
    pub presence_timeout: Duration,
    /// How often silent connections are looked for and removed.
    #[arg(long, env = "PULSE_PRESENCE_SWEEP_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub presence_sweep_interval: Duration,
}
