//! The service's own settings. The bus and the master key are not here: a
//! process may embed several services sharing one bus connection, event
//! retention and master key, so [`crate::TasksApp::build`] takes those as
//! arguments. Flag names carry the service's name (or the spend rules they
//! tune), so `pulse suite` can take every service's flags at once.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use clap::Args;
use pulse_config::parse_duration;
use secrecy::SecretString;

#[derive(Debug, Clone, Args)]
pub struct TasksConfig {
    /// Address the task-notification gRPC API listens on (port 0 picks a free port).
    #[arg(long, env = "PULSE_TASKS_ADDR", default_value = "127.0.0.1:50054")]
    pub tasks_addr: SocketAddr,
    /// PostgreSQL URL of the task-notification database; the database is created if missing.
    #[arg(
        long,
        env = "PULSE_TASKS_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/pulse_tasks",
        hide_env_values = true
    )]
    pub tasks_database_url: SecretString,
    /// Most connections the task-notification service opens to PostgreSQL.
    #[arg(long, env = "PULSE_TASKS_DB_MAX_CONNECTIONS", default_value = "10")]
    pub tasks_db_max_connections: NonZeroU32,
    /// Shortest time between two SpendUpdate events of one virtual key; spend recorded meanwhile is summed into the next.
    #[arg(long, env = "PULSE_SPEND_WINDOW", default_value = "1s", value_parser = parse_duration)]
    pub spend_window: Duration,
    /// How often the spend aggregator looks for recorded spend to announce.
    #[arg(long, env = "PULSE_SPEND_AGGREGATION_INTERVAL", default_value = "200ms", value_parser = parse_duration)]
    pub spend_aggregation_interval: Duration,
    /// A window's spend above this multiple of the key's average window (last 10, at least 3) raises UnusualSpending.
    #[arg(long, env = "PULSE_UNUSUAL_SPEND_FACTOR", default_value = "3.0")]
    pub unusual_spend_factor: f64,
}
