//! Transactions that write outbox rows, and what they hand the relay when
//! they commit.
//!
//! The relay used to learn of new rows from a `pg_notify` sent inside each
//! command's transaction. PostgreSQL serializes the commits of every
//! transaction that notifies (one lock for the whole cluster, held through
//! the commit's flush), which capped a service at about one command per
//! flush. Now the committing process hands its own relay the rows directly,
//! after the commit (`handoff`), and pays nothing inside the transaction.
//! Only a process whose relay is not the active one (a standby replica)
//! still notifies, outside its transaction, so the active relay elsewhere
//! reads them.

use std::{
    ops::{Deref, DerefMut},
    sync::Arc,
};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::{
    handoff::{Handed, Handoff},
    metrics::RelayMetrics,
    relay::OutboxRow,
    trace::Traced,
};

/// A service's database together with its outbox. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    pool: PgPool,
    handoff: Arc<Handoff>,
    relay_metrics: Arc<RelayMetrics>,
}

impl Outbox {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            handoff: Arc::default(),
            relay_metrics: Arc::default(),
        }
    }

    /// The connection pool, for statements outside outbox transactions.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction whose [`OutboxTransaction::commit`] hands its
    /// rows to the relay.
    pub async fn begin(&self) -> Result<OutboxTransaction, sqlx::Error> {
        Ok(self.transaction(self.pool.begin().await?))
    }

    /// [`Outbox::begin`] with a statement of the caller's that begins the
    /// transaction: `BEGIN` and what should run with it in the same round
    /// trip (a simple query: no parameters, its rows are discarded).
    pub async fn begin_with(&self, statement: String) -> Result<OutboxTransaction, sqlx::Error> {
        Ok(self.transaction(self.pool.begin_with(statement).await?))
    }

    fn transaction(&self, transaction: Transaction<'static, Postgres>) -> OutboxTransaction {
        OutboxTransaction {
            transaction,
            outbox: self.clone(),
            appended: Appended::default(),
        }
    }

    pub(crate) fn handoff(&self) -> &Handoff {
        &self.handoff
    }

    pub(crate) fn relay_metrics(&self) -> &RelayMetrics {
        &self.relay_metrics
    }

    /// Whether this process's relay is the active one.
    pub(crate) fn is_leading(&self) -> bool {
        self.handoff.is_leading()
    }

    /// Hands the rows of a commit to the relay of this process if it is the
    /// active one; tells the active one elsewhere otherwise.
    async fn committed(&self, committed: Handed) {
        if self.handoff.hand(committed) {
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
    appended: Appended,
}

/// The outbox rows a transaction wrote, as far as it knows them.
#[derive(Debug, Default)]
struct Appended {
    rows: Vec<OutboxRow>,
    traced: Vec<Traced>,
    /// It wrote rows that are not in `rows`.
    unlisted: bool,
}

impl OutboxTransaction {
    /// Commits, then hands the rows it wrote to the relay.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.transaction.commit().await?;
        let Appended {
            rows,
            traced,
            unlisted,
        } = self.appended;
        self.outbox
            .committed(Handed::committed(rows, traced, unlisted))
            .await;
        Ok(())
    }

    /// Records event rows this transaction appended, for its commit to hand
    /// over.
    pub(crate) fn appended(&mut self, rows: Vec<OutboxRow>, traced: Vec<Traced>) {
        self.appended.rows.extend(rows);
        self.appended.traced.extend(traced);
    }

    /// Records that this transaction appended rows the relay must read from
    /// the outbox (presence notices, which have no number to be published
    /// in turn by).
    pub(crate) fn appended_unlisted(&mut self) {
        self.appended.unlisted = true;
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
