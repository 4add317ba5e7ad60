//! The transactional outbox.
//!
//! A command's change and its event commit in one PostgreSQL transaction
//! ([`Outbox::begin`], [`enqueue`]); the commit hands the rows to the
//! [`Relay`] of its process, which publishes outbox rows in order to the
//! bus (from memory when it can, read back from the outbox when it must),
//! waits for each acknowledgement, and only then deletes them. A crash between
//! commit and publish therefore loses nothing (the row is still there), and a
//! crash between publish and delete duplicates nothing visible (the message id
//! is de-duplicated by JetStream, and every event carries its group sequence
//! so consumers drop anything they have already seen). Presence notices
//! ([`enqueue_notice`]) carry no sequence; their message id is the row's id.
//!
//! Of several replicas on one database, one relays: the holder of an
//! advisory lock. The others stand by; a leader that stops publishes what
//! is waiting, then gives the lock up and notifies them (channel
//! `pulse_outbox_released`), so one takes over at once; one that dies loses
//! the lock with its session, and a standby takes it at its next try
//! ([`RelayConfig::standby_retry`]).
//!
//! A row keeps the trace context of the command that wrote it; the relay
//! continues that trace (`trace`), so one trace follows an event from the
//! command to every gateway that delivers it.

mod handoff;
mod metrics;
mod relay;
mod schema;
mod store;
mod trace;
mod transaction;

pub use relay::{Relay, RelayConfig};
pub use schema::ensure_schema;
pub use store::{
    current_sequence, enqueue, enqueue_all, enqueue_notice, enqueue_notices, waiting, AppendedRow,
    Enqueued,
};
pub use transaction::{Outbox, OutboxTransaction};

/// The PostgreSQL channel the relay listens on: a process whose own relay is
/// not the active one notifies it after each commit.
pub(crate) const CHANNEL: &str = "pulse_outbox";

/// The PostgreSQL channel standby relays listen on: a leader that stops
/// notifies it as it gives up the relay lock, so a standby takes over at
/// once instead of at its next try.
pub(crate) const RELEASED: &str = "pulse_outbox_released";
