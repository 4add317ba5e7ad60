use std::time::Duration;

use bytes::Bytes;
use pulse_bus::{Bus, BusError, StreamKind, Topic};
use sqlx::{pool::PoolConnection, postgres::PgListener, PgPool, Postgres};
use tokio_util::sync::CancellationToken;

/// What the relay publishes to, and how it paces itself.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Streams this service publishes into; created (if missing) before the
    /// first publish, with this retention.
    pub streams: Vec<StreamKind>,
    pub retention: Duration,
    /// Rows read per round trip.
    pub batch_size: i64,
    /// Safety net when a notification is missed (listener reconnect).
    pub poll_interval: Duration,
    /// Wait before retrying after the bus or the database failed.
    pub retry_delay: Duration,
}

impl RelayConfig {
    pub fn new(streams: Vec<StreamKind>, retention: Duration) -> Self {
        Self {
            streams,
            retention,
            batch_size: 256,
            poll_interval: Duration::from_secs(1),
            retry_delay: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("bus: {0}")]
    Bus(#[from] BusError),
}

/// Publishes committed outbox rows to the bus, in id order, one at a time,
/// each acknowledged before the next. One relay per database is active: it
/// holds an advisory lock, and a second instance waits as a standby.
#[derive(Debug)]
pub struct Relay {
    pool: PgPool,
    bus: Bus,
    config: RelayConfig,
}

const LEADER_LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('pulse_outbox_relay'))";

impl Relay {
    pub fn new(pool: PgPool, bus: Bus, config: RelayConfig) -> Self {
        Self { pool, bus, config }
    }

    /// Runs until `shutdown` is cancelled. Commands keep committing while the
    /// bus is down; their events wait here and go out in order once it is back.
    pub async fn run(self, shutdown: CancellationToken) {
        let Some(_leader) = self.become_leader(&shutdown).await else {
            return;
        };
        if !self.ensure_streams(&shutdown).await {
            return;
        }
        let mut listener = None;
        loop {
            if listener.is_none() {
                listener = self.listen().await;
            }
            match self.drain().await {
                Ok(0) => {}
                Ok(published) => tracing::debug!(published, "outbox relayed"),
                Err(error) => {
                    tracing::warn!(%error, "outbox relay failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(self.config.retry_delay) => continue,
                    }
                }
            }
            let notified = async {
                match listener.as_mut() {
                    Some(listener) => listener.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                result = notified => if result.is_err() { listener = None },
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Waits until this instance holds the relay lock; the connection holding
    /// it is returned and kept for the relay's lifetime.
    async fn become_leader(
        &self,
        shutdown: &CancellationToken,
    ) -> Option<PoolConnection<Postgres>> {
        loop {
            let attempt = async {
                let mut conn = self.pool.acquire().await?;
                let won: bool = sqlx::query_scalar(LEADER_LOCK)
                    .fetch_one(&mut *conn)
                    .await?;
                Ok::<_, sqlx::Error>(won.then_some(conn))
            };
            match attempt.await {
                Ok(Some(conn)) => return Some(conn),
                Ok(None) => tracing::debug!("another relay is active; standing by"),
                Err(error) => tracing::warn!(%error, "cannot take the relay lock"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(self.config.poll_interval * 2) => {}
            }
        }
    }

    /// Retries until every stream exists; false if shut down first.
    async fn ensure_streams(&self, shutdown: &CancellationToken) -> bool {
        for kind in &self.config.streams {
            loop {
                match self.bus.ensure_stream(*kind, self.config.retention).await {
                    Ok(()) => break,
                    Err(error) => tracing::warn!(%error, "cannot create stream; retrying"),
                }
                tokio::select! {
                    () = shutdown.cancelled() => return false,
                    () = tokio::time::sleep(self.config.retry_delay) => {}
                }
            }
        }
        true
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(crate::CHANNEL).await.ok()?;
        Some(listener)
    }

    /// Publishes every pending row; returns how many.
    async fn drain(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let rows: Vec<(i64, String, i64, Vec<u8>)> = sqlx::query_as(
                "SELECT id, topic, sequence, envelope FROM pulse_outbox ORDER BY id LIMIT $1",
            )
            .bind(self.config.batch_size)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(total);
            }
            let mut published = Vec::with_capacity(rows.len());
            let mut failure = None;
            for (id, group, sequence, envelope) in rows {
                let Some(topic) = Topic::parse_group(&group) else {
                    tracing::error!(%group, id, "outbox row with an unknown group; dropped");
                    published.push(id);
                    continue;
                };
                let msg_id = format!("{group}:{sequence}");
                match self
                    .bus
                    .publish(&topic, &msg_id, Bytes::from(envelope))
                    .await
                {
                    Ok(()) => published.push(id),
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            total += published.len();
            sqlx::query("DELETE FROM pulse_outbox WHERE id = ANY($1)")
                .bind(&published)
                .execute(&self.pool)
                .await?;
            if let Some(error) = failure {
                return Err(error.into());
            }
        }
    }
}
