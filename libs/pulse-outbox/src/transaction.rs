//! Transactions that write outbox rows, and the wake-up they hand the relay
//! when they commit.
//!
//! The relay used to learn of new rows from a `pg_notify` sent inside each
//! command's transaction. PostgreSQL serializes the commits of every
//! transaction that notifies (one lock for the whole cluster, held through
//! the commit's flush), which capped a service at about one command per
//! flush. Now the committing process tells its own relay directly, after the
//! commit, and pays nothing inside the transaction. Only a process whose relay
//! is not the active one (a standby replica) still notifies, outside its
//! transaction, so the active relay elsewhere wakes too.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::Notify;

use crate::metrics::RelayMetrics;

/// A service's database together with its outbox. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    pool: PgPool,
    wake: Arc<Wake>,
    relay_metrics: Arc<RelayMetrics>,
}

/// How a commit reaches the relay of this process.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    /// Stores one wake-up when the relay is busy, so a commit during a
    /// drain is picked up by the next one.
    pub(crate) notify: Notify,
    /// Whether this process's relay is the active one (holds the lock).
    pub(crate) leading: AtomicBool,
}

impl Outbox {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            wake: Arc::default(),
            relay_metrics: Arc::default(),
        }
    }

    /// The connection pool, for statements outside outbox transactions.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction whose [`OutboxTransaction::commit`] wakes the relay.
    pub async fn begin(&self) -> Result<OutboxTransaction, sqlx::Error> {
        Ok(OutboxTransaction {
            transaction: self.pool.begin().await?,
            outbox: self.clone(),
        })
    }

    /// [`Outbox::begin`] with a statement of the caller's that begins the
    /// transaction: `BEGIN` and what should run with it in the same round
    /// trip (a simple query: no parameters, its rows are discarded).
    pub async fn begin_with(&self, statement: String) -> Result<OutboxTransaction, sqlx::Error> {
        Ok(OutboxTransaction {
            transaction: self.pool.begin_with(statement).await?,
            outbox: self.clone(),
        })
    }

    pub(crate) fn wake(&self) -> &Wake {
        &self.wake
    }

    pub(crate) fn relay_metrics(&self) -> &RelayMetrics {
        &self.relay_metrics
    }

    /// Whether this process's relay is the active one.
    pub(crate) fn is_leading(&self) -> bool {
        self.wake.leading.load(Ordering::Acquire)
    }

    /// Tells the active relay that rows may have committed.
    async fn committed(&self) {
        if self.wake.leading.load(Ordering::Acquire) {
            self.wake.notify.notify_one();
            return;
        }
        // The commit is durable already; a lost notification only delays the
        // rows until the relay's next poll.
        if let Err(error) = sqlx::query!("SELECT pg_notify($1, '')", crate::CHANNEL)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "cannot notify the outbox relay; it will find the rows by polling");
        }
    }
}

/// A transaction begun with [`Outbox::begin`]: used like the connection it
/// derefs to; dropped without [`OutboxTransaction::commit`], it rolls back.
#[derive(Debug)]
pub struct OutboxTransaction {
    transaction: Transaction<'static, Postgres>,
    outbox: Outbox,
}

impl OutboxTransaction {
    /// Commits, then wakes the relay.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.transaction.commit().await?;
        self.outbox.committed().await;
        Ok(())
    }
}

impl Deref for OutboxTransaction {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.transaction
    }
}

impl DerefMut for OutboxTransaction {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.transaction
    }
}
