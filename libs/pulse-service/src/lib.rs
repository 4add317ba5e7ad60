//! What every domain service of the suite does the same way, so a service
//! keeps only what is its own (configuration, rules, queries, API):
//!
//! * [`bind`] binds the gRPC listener (port 0 allowed), before any outgoing
//!   connection is opened; `ServiceCore::build` creates the database if
//!   missing, migrates it with the service's migrations, prepares the outbox
//!   tables and takes the listener (`ServiceCore::local_addr` is final);
//! * `ServiceCore::serve` runs the gRPC server, the outbox relay and the
//!   service's background tasks until stopped; stopping finishes the calls
//!   in flight, has the relay publish what they committed and hand its lock
//!   to a standby replica, then closes the pool;
//! * [`ServiceError`] is the one vocabulary of refusals, and its one
//!   exhaustive match decides the gRPC status of each; [`CallError`] is
//!   every service's error, holding the refusals all services give, the
//!   service's own ([`Refusals`], which it sorts into the vocabulary) and
//!   [`StorageError`], what every service answers database failures with,
//!   sorted by what callers are told (retry after a lost race, retry later
//!   while the database is unavailable, "internal error" otherwise);
//! * [`text`] checks client text alike in every service (trimmed,
//!   required or optional, at most so many characters, no NUL, which
//!   PostgreSQL cannot store), and [`parse_uuid`] and [`check_web_url`]
//!   refuse ids and links that are not what the contract says, with the
//!   same message in every service;
//! * [`every`] runs a periodic job (sweepers), [`stop_on_signal`] turns
//!   SIGINT/SIGTERM into a cancellation, [`is_contention`] classifies lost
//!   races, [`violated_constraint`] names the unique or foreign key a request
//!   collided with, and [`timestamp`] is the one timestamp format clients see.

mod app;
mod database;
mod error;
mod formats;
mod periodic;
mod runtime;
mod signal;
mod storage;
pub mod text;

pub use app::{App, Domain};
pub use database::{is_contention, violated_constraint};
pub use error::{CallError, Refusals, ServiceError};
pub use formats::{check_web_url, parse_uuid, timestamp};
pub use periodic::every;
pub use runtime::{bind, RunError, StartupError};
pub use signal::stop_on_signal;
pub use storage::StorageError;
