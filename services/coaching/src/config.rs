//! The service's own settings. The bus and JWT settings are not here: a
//! process may embed several services sharing one bus connection, event
//! retention and validator, so [`crate::CoachingApp::build`] takes those as
//! arguments. Flag names carry the service's name, so `pulse suite` can take
//! every service's flags at once.

use std::{net::SocketAddr, num::NonZeroU32};

use clap::Args;
use secrecy::SecretString;

#[derive(Debug, Clone, Args)]
pub struct CoachingConfig {
    /// Address the coaching gRPC API listens on (port 0 picks a free port).
    #[arg(long, env = "PULSE_COACHING_ADDR", default_value = "127.0.0.1:50053")]
    pub coaching_addr: SocketAddr,
    /// PostgreSQL URL of the coaching database; the database is created if missing.
    #[arg(
        long,
        env = "PULSE_COACHING_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/pulse_coaching",
        hide_env_values = true
    )]
    pub coaching_database_url: SecretString,
    /// Most connections the coaching service opens to PostgreSQL.
    #[arg(long, env = "PULSE_COACHING_DB_MAX_CONNECTIONS", default_value = "10")]
    pub coaching_db_max_connections: NonZeroU32,
}
