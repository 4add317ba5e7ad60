//! PostgreSQL access. Every command is one transaction that locks the list
//! row first (`FOR NO KEY UPDATE`), checks the caller's permission, applies
//! the change and enqueues its event with `pulse_outbox::enqueue`, so the
//! change and the event commit together and events of one list are numbered
//! in the order their changes committed.
//!
//! Lock order is always: list row, then the rows under it. The users table is
//! written outside command transactions ([`Store::remember`]) except by
//! `ShareList`, which never holds a user row while waiting for a list.

mod access;
mod collaborators;
mod item_adds;
mod items;
mod known_names;
mod lists;
mod presence;
mod rows;
mod users;

use std::sync::Arc;

use pulse_outbox::Outbox;
use pulse_proto::lists::LIST;

use known_names::KnownNames;

pub(crate) use collaborators::Share;
pub(crate) use item_adds::Adding;
pub(crate) use presence::{Entering, Exiting, Touching};

/// The service's database. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    /// Holds the pool, and begins the transactions that write events, so
    /// each commit hands their rows to the relay.
    outbox: Outbox,
    /// Names recorded lately, shared by the store's clones.
    known_names: Arc<KnownNames>,
}

impl Store {
    pub(crate) fn new(outbox: Outbox) -> Self {
        Self {
            outbox,
            known_names: Arc::default(),
        }
    }
}

/// Enqueues an event for group `list_{list_id}` in the caller's transaction;
/// `except` keeps it from that user's own connections ("to the others").
async fn emit(
    tx: &mut pulse_outbox::OutboxTransaction,
    list_id: uuid::Uuid,
    event: pulse_proto::lists::v1::event::Kind,
    except: Option<uuid::Uuid>,
) -> Result<(), crate::ListsError> {
    pulse_outbox::enqueue(tx, &LIST.topic(list_id), event, except).await?;
    Ok(())
}
