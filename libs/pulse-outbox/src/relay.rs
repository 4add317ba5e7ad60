use std::{collections::HashMap, sync::atomic::Ordering, time::Duration};

use bytes::Bytes;
use prost::Message;
use pulse_bus::{Bus, BusError, Outgoing, StreamKind, Topic};
use pulse_proto::events::v1::EventEnvelope;
use sqlx::{pool::PoolConnection, postgres::PgListener, PgConnection, Postgres};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::Outbox;

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

/// Publishes committed outbox rows to the bus, each group's in id (and so
/// sequence) order, every row acknowledged before it is deleted; rows of
/// different groups go out together (see `publish_in_waves`). One relay per database is active: it
/// holds an advisory lock, and a second instance waits as a standby.
#[derive(Debug)]
pub struct Relay {
    outbox: Outbox,
    bus: Bus,
    config: RelayConfig,
}

impl Relay {
    pub fn new(outbox: Outbox, bus: Bus, config: RelayConfig) -> Self {
        Self {
            outbox,
            bus,
            config,
        }
    }

    /// Runs until `shutdown` is cancelled. Commands keep committing while the
    /// bus is down; their events wait here and go out in order once it is back.
    /// If the connection holding the lock fails, the lock is gone with it: the
    /// relay stands for election again.
    pub async fn run(self, shutdown: CancellationToken) {
        while let Some(leader) = self.become_leader(&shutdown).await {
            if self.ensure_streams(&shutdown).await {
                self.lead(leader, &shutdown).await;
            } else {
                release(leader).await;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.config.retry_delay) => {}
            }
        }
    }

    /// Relays as the active instance, reading and deleting rows on the
    /// connection that holds the lock, until shut down or that connection
    /// fails. Woken by commits in this process, by notifications from other
    /// processes, and by the poll interval as a safety net.
    async fn lead(&self, mut leader: PoolConnection<Postgres>, shutdown: &CancellationToken) {
        // A published row's delete need not wait for its flush: a delete lost
        // in a crash republishes rows that JetStream de-duplicates by id.
        if let Err(error) = sqlx::query!("SET synchronous_commit = off")
            .execute(&mut *leader)
            .await
        {
            tracing::warn!(%error, "outbox relay cannot prepare its connection");
            release(leader).await;
            return;
        }
        let wake = self.outbox.wake();
        wake.leading.store(true, Ordering::Release);
        let mut listener = None;
        // A failed LISTEN is tried again after the retry delay, not on every
        // wake-up; meanwhile the poll interval is the safety net.
        let mut listen_at = Instant::now();
        loop {
            if listener.is_none() && Instant::now() >= listen_at {
                listener = self.listen().await;
                listen_at = Instant::now() + self.config.retry_delay;
            }
            match self.drain(&mut leader).await {
                Ok(0) => {}
                Ok(published) => tracing::debug!(published, "outbox relayed"),
                Err(RelayError::Database(error)) => {
                    tracing::warn!(%error, "outbox relay lost its database connection; standing for election again");
                    break;
                }
                Err(RelayError::Bus(error)) => {
                    tracing::warn!(%error, "outbox relay cannot publish; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
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
                () = shutdown.cancelled() => break,
                () = wake.notify.notified() => {}
                result = notified => if result.is_err() { listener = None },
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        wake.leading.store(false, Ordering::Release);
        release(leader).await;
    }

    /// Waits until this instance holds the relay lock; the connection holding
    /// it is returned and kept for the relay's lifetime.
    async fn become_leader(
        &self,
        shutdown: &CancellationToken,
    ) -> Option<PoolConnection<Postgres>> {
        loop {
            let attempt = async {
                let mut conn = self.outbox.pool().acquire().await?;
                let won = sqlx::query_scalar!(
                    r#"SELECT pg_try_advisory_lock(hashtext('pulse_outbox_relay')) AS "won!""#
                )
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

    /// Subscribes to the commits of other processes. A failure is logged
    /// rather than returned: the relay keeps relaying on its poll interval and
    /// its own process's commits until a later attempt succeeds.
    async fn listen(&self) -> Option<PgListener> {
        let listening = async {
            let mut listener = PgListener::connect_with(self.outbox.pool()).await?;
            listener.listen(crate::CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listening.await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, retry_in = ?self.config.retry_delay, "outbox relay cannot listen for commits; polling until it can");
                None
            }
        }
    }

    /// Publishes every pending row; returns how many.
    async fn drain(&self, conn: &mut PgConnection) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let rows: Vec<(i64, String, i64, Vec<u8>)> = sqlx::query!(
                "SELECT id, topic, sequence, envelope FROM pulse_outbox ORDER BY id LIMIT $1",
                self.config.batch_size,
            )
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| (row.id, row.topic, row.sequence, row.envelope))
            .collect();
            if rows.is_empty() {
                return Ok(total);
            }
            // A short batch was everything committed when it was read; rows
            // committed since have woken the relay again.
            let everything = rows.len() < usize::try_from(self.config.batch_size).unwrap_or(0);
            let (published, failure) = self.publish_in_waves(rows).await;
            total += published.len();
            sqlx::query!("DELETE FROM pulse_outbox WHERE id = ANY($1)", &published)
                .execute(&mut *conn)
                .await?;
            if let Some(error) = failure {
                return Err(error.into());
            }
            if everything {
                return Ok(total);
            }
        }
    }

    /// Publishes rows in waves holding at most one row per group. A wave goes
    /// out in one round trip (acknowledgements collected together), and a
    /// group's next row waits for the wave before it, so each group's events
    /// are stored in sequence order even when a publish fails: rows after a
    /// failed one of the same group are never sent in that round. Returns
    /// the ids stored (or dropped as unroutable) and the first failure.
    async fn publish_in_waves(&self, rows: Vec<OutboxRow>) -> (Vec<i64>, Option<BusError>) {
        let Waves {
            mut published,
            waves,
        } = plan_waves(rows);
        for wave in waves {
            let (ids, messages): (Vec<i64>, Vec<Outgoing>) = wave.into_iter().unzip();
            let results = self.bus.publish_all(messages).await;
            let mut failure = None;
            for (id, result) in ids.into_iter().zip(results) {
                match result {
                    Ok(()) => published.push(id),
                    Err(error) => {
                        failure.get_or_insert(error);
                    }
                }
            }
            if failure.is_some() {
                return (published, failure);
            }
        }
        (published, None)
    }
}

/// The envelope as published: with the row's group sequence, which
/// [`crate::enqueue`] stores beside the envelope rather than in it (a notice
/// has none and goes as stored).
fn numbered(envelope: Vec<u8>, sequence: i64) -> Option<Bytes> {
    let Ok(sequence) = u64::try_from(sequence) else {
        return None;
    };
    if sequence == 0 {
        return Some(Bytes::from(envelope));
    }
    let mut decoded = EventEnvelope::decode(envelope.as_slice()).ok()?;
    decoded.sequence = sequence;
    Some(Bytes::from(decoded.encode_to_vec()))
}

/// Closes the connection that held the lock instead of returning it to the
/// pool, where its session lock and settings would outlive the relay.
async fn release(leader: PoolConnection<Postgres>) {
    if let Err(error) = leader.close().await {
        tracing::debug!(%error, "closing the relay's connection failed");
    }
}

/// An outbox row: id, group, the group's sequence, the encoded envelope.
type OutboxRow = (i64, String, i64, Vec<u8>);

/// Rows split for publishing: the i-th row of a group (in id order) goes in
/// wave i, so no wave holds two rows of one group.
#[derive(Debug, Default)]
struct Waves {
    /// Rows with a group no topic has: dropped (logged), counted as done.
    published: Vec<i64>,
    waves: Vec<Vec<(i64, Outgoing)>>,
}

fn plan_waves(rows: Vec<OutboxRow>) -> Waves {
    let mut plan = Waves::default();
    let mut depth: HashMap<String, usize> = HashMap::new();
    for (id, group, sequence, envelope) in rows {
        let Some(topic) = Topic::parse_group(&group) else {
            tracing::error!(%group, id, "outbox row with an unknown group; dropped");
            plan.published.push(id);
            continue;
        };
        // A notice (sequence 0) has no number of its own: its row id is unique.
        let msg_id = if sequence == 0 {
            format!("{group}:notice:{id}")
        } else {
            format!("{group}:{sequence}")
        };
        let Some(payload) = numbered(envelope, sequence) else {
            tracing::error!(%group, id, "outbox row with an undecodable envelope; dropped");
            plan.published.push(id);
            continue;
        };
        let wave = depth.entry(group).or_default();
        if plan.waves.len() <= *wave {
            plan.waves.push(Vec::new());
        }
        plan.waves[*wave].push((
            id,
            Outgoing {
                topic,
                msg_id,
                payload,
            },
        ));
        *wave += 1;
    }
    plan
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_wave_holds_one_row_per_group_and_groups_keep_their_order() {
        let (a, b) = (Topic::List(Uuid::new_v4()), Topic::Session(Uuid::new_v4()));
        let row = |id: i64, topic: &Topic, sequence: i64| (id, topic.group(), sequence, vec![]);
        let plan = plan_waves(vec![
            row(1, &a, 1),
            row(2, &a, 2),
            row(3, &b, 1),
            (4, "nonsense".to_owned(), 1, vec![]),
            row(5, &a, 3),
            row(6, &b, 2),
        ]);
        let ids: Vec<Vec<i64>> = plan
            .waves
            .iter()
            .map(|wave| wave.iter().map(|(id, _)| *id).collect())
            .collect();
        assert_eq!(ids, vec![vec![1, 3], vec![2, 6], vec![5]]);
        assert_eq!(plan.published, vec![4]);
        assert_eq!(plan.waves[1][0].1.msg_id, format!("{}:2", a.group()));
    }

    #[test]
    fn an_event_goes_out_with_the_sequence_of_its_row() {
        let a = Topic::List(Uuid::new_v4());
        let stored = EventEnvelope {
            group: a.group(),
            occurred_at: "2026-12-06T20:00:00.000Z".to_owned(),
            ..EventEnvelope::default()
        };
        let plan = plan_waves(vec![
            (1, a.group(), 7, stored.encode_to_vec()),
            (2, a.group(), 0, stored.encode_to_vec()),
            (3, a.group(), 8, b"not an envelope".to_vec()),
        ]);
        let published: Vec<EventEnvelope> = plan
            .waves
            .iter()
            .flatten()
            .map(|(_, outgoing)| {
                EventEnvelope::decode(outgoing.payload.clone()).expect("an envelope")
            })
            .collect();
        assert_eq!(
            published,
            vec![
                EventEnvelope {
                    sequence: 7,
                    ..stored.clone()
                },
                stored
            ]
        );
        assert_eq!(plan.published, vec![3], "an undecodable row is dropped");
    }

    #[test]
    fn a_notice_is_identified_by_its_row_and_keeps_its_place_in_the_group() {
        let a = Topic::List(Uuid::new_v4());
        let plan = plan_waves(vec![
            (7, a.group(), 1, vec![]),
            (8, a.group(), 0, vec![]),
            (9, a.group(), 0, vec![]),
            (10, a.group(), 2, vec![]),
        ]);
        let ids: Vec<(i64, String)> = plan
            .waves
            .iter()
            .flatten()
            .map(|(id, outgoing)| (*id, outgoing.msg_id.clone()))
            .collect();
        let group = a.group();
        assert_eq!(
            ids,
            vec![
                (7, format!("{group}:1")),
                (8, format!("{group}:notice:8")),
                (9, format!("{group}:notice:9")),
                (10, format!("{group}:2")),
            ]
        );
    }
}
