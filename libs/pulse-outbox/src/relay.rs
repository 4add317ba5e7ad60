use std::{collections::HashMap, sync::atomic::Ordering, time::Duration};

use bytes::Bytes;
use prost::Message;
use pulse_bus::{Bus, BusError, BusErrorKind, GroupKind, Outgoing, Topic};
use pulse_proto::events::v1::EventEnvelope;
use sqlx::{pool::PoolConnection, postgres::PgListener, PgConnection, Postgres};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    trace::{Publishing, Traced},
    Outbox,
};

/// What the relay publishes to, and how it paces itself.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Streams this service publishes into; created (if missing) before the
    /// first publish, with this retention.
    pub streams: Vec<GroupKind>,
    pub retention: Duration,
    /// Rows read per round trip.
    pub batch_size: i64,
    /// Safety net when a notification is missed (listener reconnect).
    pub poll_interval: Duration,
    /// How long acknowledged rows may wait for the next read of the outbox,
    /// which deletes them in the same statement; when nothing commits
    /// sooner, the relay reads (and deletes) once this has passed.
    pub delete_linger: Duration,
    /// How often a standby tries for the lock unasked. A leader that stops
    /// hands the lock over at once (see `hand_over`); this bounds the
    /// takeover after one that died without doing so.
    pub standby_retry: Duration,
    /// Wait before retrying after the bus or the database failed.
    pub retry_delay: Duration,
}

impl RelayConfig {
    pub fn new(streams: Vec<GroupKind>, retention: Duration) -> Self {
        Self {
            streams,
            retention,
            batch_size: 256,
            poll_interval: Duration::from_secs(1),
            delete_linger: Duration::from_millis(10),
            standby_retry: Duration::from_secs(2),
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
/// sequence) order, every row acknowledged before it is deleted; a batch of
/// rows goes out in one round trip (see `Relay::publish_round`), and the
/// statement that reads the next batch deletes the one before
/// (`Acknowledged`). One relay per database is active: it
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
    /// relay stands for election again. Cancel `shutdown` only once nothing
    /// of this process commits any more: a leader then publishes what was
    /// committed before it stops, and hands the lock over.
    pub async fn run(self, shutdown: CancellationToken) {
        while let Some(leader) = self.become_leader(&shutdown).await {
            if self.ensure_streams(&shutdown).await {
                self.lead(leader, &shutdown).await;
            } else {
                hand_over(leader).await;
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
    /// processes, by the delete linger while published rows wait to be
    /// deleted, and by the poll interval as a safety net. Shut down, it
    /// publishes what is waiting, then hands the lock over.
    async fn lead(&self, mut leader: PoolConnection<Postgres>, shutdown: &CancellationToken) {
        if let Err(error) = prepare(&mut leader).await {
            tracing::warn!(%error, "outbox relay cannot prepare its connection");
            hand_over(leader).await;
            return;
        }
        tracing::info!("outbox relay leading");
        let wake = self.outbox.wake();
        wake.leading.store(true, Ordering::Release);
        let mut listener = None;
        // A failed LISTEN is tried again after the retry delay, not on every
        // wake-up; meanwhile the poll interval is the safety net.
        let mut listen_at = Instant::now();
        let mut connected = true;
        let mut acknowledged = Acknowledged::default();
        loop {
            if listener.is_none() && Instant::now() >= listen_at {
                listener = self.listen(crate::CHANNEL).await;
                listen_at = Instant::now() + self.config.retry_delay;
            }
            match self.drain(&mut leader, i64::MAX, &mut acknowledged).await {
                Ok(0) => {}
                Ok(published) => tracing::debug!(published, "outbox relayed"),
                Err(RelayError::Database(error)) => {
                    tracing::warn!(%error, "outbox relay lost its database connection; standing for election again");
                    connected = false;
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
            let idle = if acknowledged.is_empty() {
                self.config.poll_interval
            } else {
                self.config.delete_linger
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = wake.notify.notified() => {}
                result = notified => if result.is_err() { listener = None },
                () = tokio::time::sleep(idle) => {}
            }
        }
        if connected && shutdown.is_cancelled() {
            self.publish_the_rest(&mut leader, acknowledged).await;
        }
        hand_over(leader).await;
        wake.leading.store(false, Ordering::Release);
        tracing::info!("outbox relay no longer leading");
    }

    /// A stopping leader's last drain: every row committed before it began
    /// (the last calls of this process among them), so the next leader
    /// starts with nothing of this one's waiting. It stops at the newest row
    /// there now, so a busy database cannot keep a stopping process; what
    /// fails or commits later is the next leader's. The rows it publishes are
    /// deleted before it returns.
    async fn publish_the_rest(&self, leader: &mut PgConnection, mut acknowledged: Acknowledged) {
        let newest = sqlx::query_scalar!("SELECT max(id) FROM pulse_outbox")
            .fetch_one(&mut *leader)
            .await;
        let drained = match newest {
            Ok(newest) => {
                self.drain(leader, newest.unwrap_or(0), &mut acknowledged)
                    .await
            }
            Err(error) => Err(error.into()),
        };
        let published = match acknowledged.delete(leader).await {
            Ok(()) => drained,
            Err(error) => drained.and(Err(error.into())),
        };
        match published {
            Ok(published) => tracing::info!(published, "outbox relay published the rest"),
            Err(error) => tracing::warn!(%error, "outbox relay leaves rows to the next leader"),
        }
    }

    /// Waits until this instance holds the relay lock; the connection holding
    /// it is returned and kept for the relay's lifetime. Tries when a leader
    /// hands the lock over (a notification on [`crate::RELEASED`]) and every
    /// `standby_retry`, which bounds the wait after a leader died instead.
    async fn become_leader(
        &self,
        shutdown: &CancellationToken,
    ) -> Option<PoolConnection<Postgres>> {
        let mut released = None;
        loop {
            // Listening before trying: a hand-over between a failed try and
            // the wait is not missed.
            if released.is_none() {
                released = self.listen(crate::RELEASED).await;
            }
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
            let handed_over = async {
                match released.as_mut() {
                    Some(listener) => listener.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return None,
                result = handed_over => if result.is_err() { released = None },
                () = tokio::time::sleep(self.config.standby_retry) => {}
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

    /// Subscribes to `channel`: the commits of other processes, or a
    /// leader's hand-over. A failure is logged rather than returned: the
    /// relay falls back on its timers until a later attempt succeeds.
    async fn listen(&self, channel: &str) -> Option<PgListener> {
        let listening = async {
            let mut listener = PgListener::connect_with(self.outbox.pool()).await?;
            listener.listen(channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listening.await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, channel, "outbox relay cannot listen; relying on its timers until it can");
                None
            }
        }
    }

    /// Publishes every pending row with an id up to `through`; returns how
    /// many. The rows acknowledged last stay in `acknowledged`, to be deleted
    /// by the next read.
    async fn drain(
        &self,
        conn: &mut PgConnection,
        through: i64,
        acknowledged: &mut Acknowledged,
    ) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let mut traced = Vec::new();
            let rows: Vec<OutboxRow> = acknowledged
                .read_next(conn, through, self.config.batch_size)
                .await?
                .into_iter()
                .map(|row| {
                    if let Some(traceparent) = row.traceparent {
                        traced.push(Traced {
                            id: row.id,
                            traceparent,
                            written_at: row.created_at,
                        });
                    }
                    (row.id, row.topic, row.sequence, row.envelope)
                })
                .collect();
            if rows.is_empty() {
                return Ok(total);
            }
            // A short batch was everything committed when it was read; rows
            // committed since have woken the relay again.
            let everything = rows.len() < usize::try_from(self.config.batch_size).unwrap_or(0);
            let round = self.publish_round(rows, traced).await;
            total += round.published.len();
            acknowledged.0 = round.published;
            if let Some(error) = round.failure {
                return Err(error.into());
            }
            if everything && !round.out_of_turn {
                return Ok(total);
            }
        }
    }

    /// Publishes rows in one round trip, each group's in id (and so sequence) order, every
    /// row after a group's first naming the one before it (`Outgoing::after`): the broker
    /// stores a row only right after its predecessor, so a failed row is never overtaken by a
    /// later one of its group, even with another relay publishing beside this one. A group's
    /// first row needs no guard: every row of the group before it was acknowledged (and
    /// deleted) or is in this batch ahead of it. Returns the ids stored (or dropped as
    /// unroutable), whether a row was refused for its turn (its predecessor failed or was a
    /// duplicate; it goes again in the next round, at once), and the first other failure.
    /// Rows written in a traced command (`traced`) are published in spans of that trace.
    async fn publish_round(&self, rows: Vec<OutboxRow>, traced: Vec<Traced>) -> Round {
        let Planned {
            mut published,
            mut messages,
        } = plan_round(rows);
        let mut publishing = Publishing::start(traced);
        publishing.stamp(&mut messages);
        let (ids, messages): (Vec<i64>, Vec<Outgoing>) = messages.into_iter().unzip();
        let started = Instant::now();
        let results = self.bus.publish_all(messages).await;
        let elapsed = started.elapsed();
        let mut round = Round::default();
        let (mut acknowledged, mut failed) = (0, 0);
        for (id, result) in ids.into_iter().zip(results) {
            publishing.finish(id, &result);
            match result {
                Ok(()) => {
                    acknowledged += 1;
                    published.push(id);
                }
                Err(error) if error.kind() == BusErrorKind::OutOfTurn => round.out_of_turn = true,
                Err(error) => {
                    failed += 1;
                    round.failure.get_or_insert(error);
                }
            }
        }
        self.outbox
            .relay_metrics()
            .round(acknowledged, failed, elapsed);
        round.published = published;
        round
    }
}

/// What one round of publishing did.
#[derive(Debug, Default)]
struct Round {
    published: Vec<i64>,
    out_of_turn: bool,
    failure: Option<BusError>,
}

/// Ids of rows the bus acknowledged and the outbox still holds. The next
/// read deletes them in its own statement: a busy relay pays one database
/// round trip per batch, not one to read and one to delete. Until then they
/// are only in memory; if they are lost with the relay, the next leader
/// publishes those rows again, and the bus drops them as duplicates.
#[derive(Debug, Default)]
struct Acknowledged(Vec<i64>);

impl Acknowledged {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Deletes the acknowledged rows and reads, in id order, up to `limit`
    /// rows with ids up to `through` (rows of the same snapshot being
    /// deleted are left out). Forgets the ids once the statement succeeded.
    async fn read_next(
        &mut self,
        conn: &mut PgConnection,
        through: i64,
        limit: i64,
    ) -> Result<Vec<PendingRow>, sqlx::Error> {
        let rows = sqlx::query_as!(
            PendingRow,
            "WITH deleted AS (DELETE FROM pulse_outbox WHERE id = ANY($1))
             SELECT id, topic, sequence, envelope, traceparent, created_at
             FROM pulse_outbox WHERE id <= $2 AND NOT (id = ANY($1)) ORDER BY id LIMIT $3",
            &self.0,
            through,
            limit,
        )
        .fetch_all(conn)
        .await?;
        self.0.clear();
        Ok(rows)
    }

    /// Deletes the acknowledged rows, reading none.
    async fn delete(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.is_empty() {
            return Ok(());
        }
        self.read_next(conn, 0, 0).await.map(drop)
    }
}

/// An outbox row as read for publishing.
#[derive(Debug)]
struct PendingRow {
    id: i64,
    topic: String,
    sequence: i64,
    envelope: Vec<u8>,
    traceparent: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
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

/// How long PostgreSQL waits on a silent leader connection before it probes
/// it, how often it probes, and how many unanswered probes end the session
/// (and the lock with it): a leader whose host vanished (no FIN, no reset,
/// unlike a killed process, whose socket the kernel closes at once) loses
/// the lock within 5 + 5 × 1 = 10 s. A live leader answers the probes.
const KEEPALIVE_IDLE_SECS: &str = "5";
const KEEPALIVE_INTERVAL_SECS: &str = "1";
const KEEPALIVE_COUNT: &str = "5";
/// The same bound while PostgreSQL has data the vanished host never
/// acknowledged (keepalives do not probe then): `tcp_user_timeout`.
const UNACKNOWLEDGED_MS: &str = "10000";

/// Readies the connection holding the lock. A published row's delete need
/// not wait for its flush: a delete lost in a crash republishes rows that
/// JetStream de-duplicates by id. The keepalive settings bound how long the
/// lock outlives a leader's vanished host (they do nothing on a Unix socket,
/// where there is no host to lose).
async fn prepare(leader: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT concat_ws(',',
                set_config('synchronous_commit', 'off', false),
                set_config('tcp_keepalives_idle', $1, false),
                set_config('tcp_keepalives_interval', $2, false),
                set_config('tcp_keepalives_count', $3, false),
                set_config('tcp_user_timeout', $4, false)) AS "settings!""#,
        KEEPALIVE_IDLE_SECS,
        KEEPALIVE_INTERVAL_SECS,
        KEEPALIVE_COUNT,
        UNACKNOWLEDGED_MS,
    )
    .fetch_one(leader)
    .await?;
    Ok(())
}

/// Gives up the lock and tells the standbys in one statement (the unlock is
/// immediate, the notification goes out as the statement commits, so a
/// standby it reaches finds the lock free): one takes over now rather than
/// at its next `standby_retry`. Then closes the connection instead of
/// returning it to the pool, where its settings would outlive the relay;
/// the close also releases the lock if the statement failed.
async fn hand_over(mut leader: PoolConnection<Postgres>) {
    let handed = sqlx::query_scalar!(
        r#"SELECT pg_advisory_unlock(hashtext('pulse_outbox_relay')) AS "unlocked!"
           FROM pg_notify($1, '')"#,
        crate::RELEASED,
    )
    .fetch_one(&mut *leader)
    .await;
    if let Err(error) = handed {
        tracing::debug!(%error, "the relay lock goes with its connection");
    }
    if let Err(error) = leader.close().await {
        tracing::debug!(%error, "closing the relay's connection failed");
    }
}

/// An outbox row: id, group, the group's sequence, the encoded envelope.
type OutboxRow = (i64, String, i64, Vec<u8>);

/// Rows ordered for one round: each group's together, in id order.
#[derive(Debug, Default)]
struct Planned {
    /// Rows with a group no topic has, or an envelope that does not decode: dropped (logged),
    /// counted as done.
    published: Vec<i64>,
    messages: Vec<(i64, Outgoing)>,
}

/// A row ready to publish: id, message id, payload.
type ReadyRow = (i64, String, Bytes);

fn plan_round(rows: Vec<OutboxRow>) -> Planned {
    let mut plan = Planned::default();
    // Groups in order of their first row; each with its rows in id order.
    let mut groups: Vec<(Topic, Vec<ReadyRow>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (id, group, sequence, envelope) in rows {
        let Some(topic) = pulse_proto::GROUP_KINDS.parse(&group) else {
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
        let slot = *index.entry(group).or_insert_with(|| {
            groups.push((topic, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push((id, msg_id, payload));
    }
    for (topic, rows) in groups {
        let mut after = None;
        for (id, msg_id, payload) in rows {
            let outgoing = Outgoing {
                topic,
                msg_id: msg_id.clone(),
                payload,
                after: after.replace(msg_id),
                traceparent: None,
            };
            plan.messages.push((id, outgoing));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use pulse_proto::{leancoffee::SESSION, lists::LIST};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_groups_rows_go_together_in_order_each_naming_the_one_before() {
        let (a, b) = (LIST.topic(Uuid::new_v4()), SESSION.topic(Uuid::new_v4()));
        let row = |id: i64, topic: &Topic, sequence: i64| (id, topic.group(), sequence, vec![]);
        let plan = plan_round(vec![
            row(1, &a, 1),
            row(2, &a, 2),
            row(3, &b, 1),
            (4, "nonsense".to_owned(), 1, vec![]),
            row(5, &a, 3),
            row(6, &b, 2),
        ]);
        let planned: Vec<(i64, String, Option<String>)> = plan
            .messages
            .iter()
            .map(|(id, outgoing)| (*id, outgoing.msg_id.clone(), outgoing.after.clone()))
            .collect();
        let (ga, gb) = (a.group(), b.group());
        assert_eq!(
            planned,
            vec![
                (1, format!("{ga}:1"), None),
                (2, format!("{ga}:2"), Some(format!("{ga}:1"))),
                (5, format!("{ga}:3"), Some(format!("{ga}:2"))),
                (3, format!("{gb}:1"), None),
                (6, format!("{gb}:2"), Some(format!("{gb}:1"))),
            ]
        );
        assert_eq!(plan.published, vec![4]);
    }

    #[test]
    fn an_event_goes_out_with_the_sequence_of_its_row() {
        let a = LIST.topic(Uuid::new_v4());
        let stored = EventEnvelope {
            group: a.group(),
            occurred_at: "2026-12-06T20:00:00.000Z".to_owned(),
            ..EventEnvelope::default()
        };
        let plan = plan_round(vec![
            (1, a.group(), 7, stored.encode_to_vec()),
            (2, a.group(), 0, stored.encode_to_vec()),
            (3, a.group(), 8, b"not an envelope".to_vec()),
        ]);
        let published: Vec<EventEnvelope> = plan
            .messages
            .iter()
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
        let a = LIST.topic(Uuid::new_v4());
        let plan = plan_round(vec![
            (7, a.group(), 1, vec![]),
            (8, a.group(), 0, vec![]),
            (9, a.group(), 0, vec![]),
            (10, a.group(), 2, vec![]),
        ]);
        let ids: Vec<(i64, String)> = plan
            .messages
            .iter()
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
