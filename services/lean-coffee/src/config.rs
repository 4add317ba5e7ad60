//! The service's own settings. The bus and JWT settings are not here: a
//! process may embed several services sharing one bus connection, event
//! retention and validator, so [`crate::LeanCoffeeApp::build`] takes those as
//! arguments. Flag names carry the service's name where another service has
//! the same kind of setting, so `pulse suite` can take every service's flags
//! at once.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use clap::Args;
use pulse_config::parse_duration;
use secrecy::SecretString;

#[derive(Debug, Clone, Args)]
pub struct LeanCoffeeConfig {
    /// Address the Lean Coffee gRPC API listens on (port 0 picks a free port).
    #[arg(
        long,
        env = "PULSE_LEAN_COFFEE_ADDR",
        default_value = "127.0.0.1:50052"
    )]
    pub lean_coffee_addr: SocketAddr,
    /// PostgreSQL URL of the Lean Coffee database; the database is created if missing.
    #[arg(
        long,
        env = "PULSE_LEAN_COFFEE_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/pulse_lean_coffee",
        hide_env_values = true
    )]
    pub lean_coffee_database_url: SecretString,
    /// Most connections the Lean Coffee service opens to PostgreSQL.
    #[arg(
        long,
        env = "PULSE_LEAN_COFFEE_DB_MAX_CONNECTIONS",
        default_value = "10"
    )]
    pub lean_coffee_db_max_connections: NonZeroU32,
    /// A session connection without a heartbeat for this long is gone (ParticipantLeft if it was the user's last).
    #[arg(long, env = "PULSE_PARTICIPANT_TIMEOUT", default_value = "45s", value_parser = parse_duration)]
    pub participant_timeout: Duration,
    /// How often silent session connections are looked for and removed.
    #[arg(long, env = "PULSE_PARTICIPANT_SWEEP_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub participant_sweep_interval: Duration,
}
