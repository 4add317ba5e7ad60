//! How a commit reaches the relay of its own process: with the rows it
//! wrote, so the relay can publish them without reading them back.
//!
//! A commit used to hand over only a wake-up, and the relay read the rows it
//! had just been told of: one more round trip to PostgreSQL between every
//! commit and its publish, on the database every command waits for. Now the
//! transaction keeps the ids and numbers its events got, and its commit
//! passes them on. The outbox table stays the durable record and the
//! fallback: whatever is not handed over, or cannot be published from here
//! in order, the relay reads (`Relay`'s `lead`).

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Mutex,
};

use tokio::sync::Notify;

use crate::{relay::OutboxRow, trace::Traced};

/// Rows waiting in the hand-off at most: a relay that cannot publish (the
/// bus is down) would otherwise collect every commit's rows in memory. Past
/// it, rows are not kept; the relay reads them from the outbox instead.
const MOST_WAITING: usize = 4096;

/// Between the transactions of a process and its relay.
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    waiting: Mutex<Handed>,
    /// Stores one wake-up when the relay is busy, so a commit during a
    /// round is picked up right after it.
    notify: Notify,
    /// Whether this process's relay is the active one (holds the lock).
    leading: AtomicBool,
}

/// What commits handed over since the relay last looked.
#[derive(Debug, Default)]
pub(crate) struct Handed {
    /// Committed rows, each with a group sequence, in no particular order.
    pub(crate) rows: Vec<OutboxRow>,
    /// Those of the rows written in a traced command.
    pub(crate) traced: Vec<Traced>,
    /// A commit wrote rows it did not hand over (presence notices, or more
    /// than fit): the relay reads the outbox.
    pub(crate) read_table: bool,
}

impl Handed {
    /// Rows of one transaction: `read_table` when it wrote rows that are
    /// not among them.
    pub(crate) fn committed(rows: Vec<OutboxRow>, traced: Vec<Traced>, read_table: bool) -> Self {
        Self {
            rows,
            traced,
            read_table,
        }
    }

    fn take_in(&mut self, mut committed: Handed) {
        if committed.rows.is_empty() || self.rows.len() + committed.rows.len() > MOST_WAITING {
            self.read_table = true;
            return;
        }
        self.read_table |= committed.read_table;
        self.rows.append(&mut committed.rows);
        self.traced.append(&mut committed.traced);
    }
}

impl Handoff {
    /// Whether this process's relay is the active one.
    pub(crate) fn is_leading(&self) -> bool {
        self.leading.load(Ordering::Acquire)
    }

    /// Hands a commit's rows to the relay when it is the active one, and
    /// wakes it; false when it is not (the caller notifies the active one
    /// elsewhere). A commit that hands over no rows wakes it to read the
    /// outbox.
    pub(crate) fn hand(&self, committed: Handed) -> bool {
        if !self.is_leading() {
            return false;
        }
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take_in(committed);
        self.notify.notify_one();
        true
    }

    /// Everything handed over since the last call.
    pub(crate) fn take(&self) -> Handed {
        std::mem::take(
            &mut *self
                .waiting
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Resolves when a commit handed something over (at once if one did
    /// since the last wait).
    pub(crate) async fn handed(&self) {
        self.notify.notified().await;
    }

    /// Marks this process's relay the active one or not. Either way what
    /// waits is dropped: handed to an earlier lead, it is in the outbox for
    /// this one to read.
    pub(crate) fn set_leading(&self, leading: bool) {
        self.leading.store(leading, Ordering::Release);
        self.take();
    }
}
