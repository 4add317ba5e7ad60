//! PostgreSQL access. Every command is one transaction that checks the
//! rules against what it reads, applies the change and enqueues its events
//! with `pulse_outbox::enqueue`, so a change and its events commit together.
//!
//! Races are settled by the database, never by a read-then-write check two
//! calls could both pass: conditional updates (`... WHERE read_at IS NULL`)
//! for read receipts and deletions, a unique index for open relationships,
//! and row locks (`FOR UPDATE` to change a relationship, `FOR SHARE` to rely
//! on one while assigning a goal or reporting progress).

mod chat;
mod goals;
mod notifications;
mod relationships;
mod rows;

use pulse_bus::{PerEntityKind, Topic};
use pulse_outbox::{Outbox, OutboxTransaction};
use pulse_proto::coaching::v1::event::Kind;
use uuid::Uuid;

use crate::CoachingError;

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

/// Enqueues an event for one user's group in the caller's transaction. The
/// events here go to everyone in the group: a user's other connections see
/// what they did elsewhere.
async fn emit(tx: &mut OutboxTransaction, topic: Topic, event: Kind) -> Result<(), CoachingError> {
    pulse_outbox::enqueue(tx, &topic, event, None).await?;
    Ok(())
}

/// Enqueues one event for two users' groups of one kind (`kind` is
/// `CHAT` or `NOTIFICATIONS`), smaller user id first. Each
/// enqueue locks its group's sequence row until commit; taking the two in
/// one order means two transactions announcing to the same pair (Ann and
/// Bob deleting messages to each other) wait for each other instead of
/// deadlocking.
async fn emit_to_both(
    tx: &mut OutboxTransaction,
    kind: PerEntityKind,
    users: (Uuid, Uuid),
    event: Kind,
) -> Result<(), CoachingError> {
    let (first, second) = crate::domain::pair(users.0, users.1);
    emit(tx, kind.topic(first), event.clone()).await?;
    emit(tx, kind.topic(second), event).await
}
