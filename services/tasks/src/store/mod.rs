//! PostgreSQL access. Every command is one transaction that locks what it
//! depends on, checks the rules, applies the change and enqueues its events
//! with `pulse_outbox::enqueue`, so a change and its events commit together.
//!
//! Races are settled by row locks, never by a read-then-write check two
//! calls could both pass: a task report locks the task row, so of two
//! concurrent reports one sees the other's result (one `TaskFailed`, never
//! 40 % after 60 %); key changes and the spend aggregator lock the key row
//! (`FOR NO KEY UPDATE`, which still lets spend records and tasks of that
//! key be inserted meanwhile); provider health locks the provider's row.

mod keys;
mod rows;
mod spend;
mod system;
mod tasks;

use pulse_bus::Topic;
use pulse_outbox::{Outbox, OutboxTransaction};
use pulse_proto::tasks::v1::event::Kind;

use crate::TasksError;

/// The service's database. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    /// Holds the pool, and begins the transactions that write events, so
    /// each commit hands their rows to the relay.
    outbox: Outbox,
}

impl Store {
    pub(crate) fn new(outbox: Outbox) -> Self {
        Self { outbox }
    }
}

/// Enqueues an event for `topic` in the caller's transaction. Every event
/// here goes to the whole group: nobody's own connections are left out.
async fn emit(tx: &mut OutboxTransaction, topic: Topic, event: Kind) -> Result<(), TasksError> {
    pulse_outbox::enqueue(tx, &topic, event, None).await?;
    Ok(())
}
