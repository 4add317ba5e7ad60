//! The task-notification service (CONTRACT §3.4): the notification backend
//! of an AI-media gateway. It owns virtual keys (per-tenant API keys, stored
//! only as a SHA-256 hash), the tasks and media requests they own, their
//! spend, and the system-wide notices (provider health, rate limits,
//! webhook deliveries, alerts, configuration changes, navigation state).
//!
//! One gRPC server carries three services for three audiences: `VirtualKeys`
//! (admins, master key), `Tasks` (clients, their virtual key) and
//! `Producers` (workers, billing and monitors, master key).
//!
//! Every change commits together with its events in a transactional outbox,
//! and task reports lock the task row first, so concurrent reports cannot
//! both broadcast: progress only moves forward and a finished task stays
//! silent. Spend is the exception to "one change, one event": a record is
//! stored (durable when acknowledged) without an event, and the spend
//! aggregator turns each key's unaggregated records into at most one
//! `SpendUpdate` per window (1 s by default), summing in NUMERIC so the
//! deltas add up exactly, with the budget alerts and unusual-spending
//! warnings that window caused in the same transaction. Records that wait
//! survive a restart: the next run picks them up.
//!
//! Embed it with [`TasksApp::build`] and [`TasksApp::run_until_stopped`];
//! `pulse tasks` (and `pulse suite`, beside the others) in `deploy/pulse`
//! runs it as a process; the library has no binary of its own, so there is
//! one way to start it.

mod aggregator;
mod config;
mod domain;
mod error;
mod events;
mod grpc;
mod startup;
mod store;
mod wire;

pub use config::TasksConfig;
pub use pulse_service::{RunError, StartupError};
pub use startup::{Tasks, TasksApp};

pub(crate) use error::TasksError;
