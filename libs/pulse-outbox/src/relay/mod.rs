mod frontier;
mod plan;

use std::time::Duration;

use pulse_bus::{Bus, BusError, BusErrorKind, GroupKind, Outgoing};
use sqlx::{pool::PoolConnection, postgres::PgListener, PgConnection, Postgres};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    trace::{Publishing, Traced},
    Outbox,
};
use frontier::Frontier;
pub(crate) use plan::OutboxRow;
use plan::{plan_round, Planned};

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
    /// which deletes them in the same statement: once this has passed, the
    /// relay reads (and deletes) even while commits hand it rows. So also
    /// the longest a leader that lost its lock publishes from memory before
    /// it learns so.
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
/// rows goes out in one round trip (see `Relay::publish_round`). Rows that
/// commits of its own process hand over go out from memory when each is the
/// next of its group (`Frontier`); the rest are read from the outbox, by
/// the statement that also deletes the rows published before
/// (`Acknowledged`). One relay per database is active: it holds an advisory
/// lock, and a second instance waits as a standby. A leader learns that it
/// lost its lock when it next uses its connection: from memory it publishes
/// for at most a delete linger before it does.
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

    /// Relays as the active instance until shut down or the connection
    /// holding the lock fails. Rows that commits in this process hand over
    /// go out from memory when each is the next of its group (`Frontier`);
    /// otherwise, and when woken by a notification from another process or
    /// by the poll interval (a safety net), the relay reads the outbox on
    /// the connection that holds the lock. That read deletes the rows
    /// published before it, and comes at the latest a delete linger after
    /// a row was published. Shut down, it publishes what is waiting, then
    /// hands the lock over.
    async fn lead(&self, mut leader: PoolConnection<Postgres>, shutdown: &CancellationToken) {
        if let Err(error) = prepare(&mut leader).await {
            tracing::warn!(%error, "outbox relay cannot prepare its connection");
            hand_over(leader).await;
            return;
        }
        tracing::info!("outbox relay leading");
        let handoff = self.outbox.handoff();
        handoff.set_leading(true);
        let mut listener = None;
        // A failed LISTEN is tried again after the retry delay, not on every
        // wake-up; meanwhile the poll interval is the safety net.
        let mut listen_at = Instant::now();
        let mut connected = true;
        let mut state = Leading::default();
        // Rows committed before this lead began were handed to nobody.
        let mut woken_by = Wake::Outbox;
        loop {
            if listener.is_none() && Instant::now() >= listen_at {
                listener = self.listen(crate::CHANNEL).await;
                listen_at = Instant::now() + self.config.retry_delay;
            }
            match self.relay(&mut leader, woken_by, &mut state).await {
                Ok(0) => {}
                Ok(published) => tracing::debug!(published, "outbox relayed"),
                Err(RelayError::Database(error)) => {
                    tracing::warn!(%error, "outbox relay lost its database connection; standing for election again");
                    connected = false;
                    break;
                }
                Err(RelayError::Bus(error)) => {
                    tracing::warn!(%error, "outbox relay cannot publish; retrying");
                    woken_by = Wake::Outbox;
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
            let idle = state
                .acknowledged
                .linger_left(self.config.delete_linger)
                .unwrap_or(self.config.poll_interval);
            woken_by = tokio::select! {
                () = shutdown.cancelled() => break,
                () = handoff.handed() => Wake::Handed,
                result = notified => {
                    if result.is_err() {
                        listener = None;
                    }
                    Wake::Outbox
                }
                () = tokio::time::sleep(idle) => Wake::Outbox,
            };
        }
        if connected && shutdown.is_cancelled() {
            self.publish_the_rest(&mut leader, state).await;
        }
        hand_over(leader).await;
        handoff.set_leading(false);
        tracing::info!("outbox relay no longer leading");
    }

    /// One step of a lead: the rows handed over, if they can go out as they
    /// are and the published rows' delete is not due; else a read of the
    /// outbox, which covers the handed rows too (they committed before they
    /// were handed over). Returns how many rows went out.
    async fn relay(
        &self,
        conn: &mut PgConnection,
        woken_by: Wake,
        state: &mut Leading,
    ) -> Result<usize, RelayError> {
        let handed = self.outbox.handoff().take();
        let due = state.acknowledged.due(self.config.delete_linger);
        if woken_by == Wake::Handed && !handed.read_table && !due {
            if let Some(rows) = state.frontier.in_turn(handed.rows) {
                return self.publish_handed(conn, rows, handed.traced, state).await;
            }
        }
        self.drain(conn, i64::MAX, state).await
    }

    /// Publishes rows handed over by their commits; when one is refused for
    /// its turn (the broker holds a message this relay did not publish), it
    /// reads the outbox at once.
    async fn publish_handed(
        &self,
        conn: &mut PgConnection,
        rows: Vec<OutboxRow>,
        mut traced: Vec<Traced>,
        state: &mut Leading,
    ) -> Result<usize, RelayError> {
        if rows.is_empty() {
            return Ok(0);
        }
        // `in_turn` gives the rows in id order.
        traced.retain(|row| {
            rows.binary_search_by_key(&row.id, |handed| handed.id)
                .is_ok()
        });
        let round = self.publish_round(rows, traced, &mut state.frontier).await;
        let published = round.published.len();
        self.outbox.relay_metrics().handed(published);
        state.acknowledged.extend(round.published);
        if let Some(error) = round.failure {
            return Err(error.into());
        }
        if round.out_of_turn {
            return Ok(published + self.drain(conn, i64::MAX, state).await?);
        }
        Ok(published)
    }

    /// A stopping leader's last drain: every row committed before it began
    /// (the last calls of this process among them), so the next leader
    /// starts with nothing of this one's waiting. It stops at the newest row
    /// there now, so a busy database cannot keep a stopping process; what
    /// fails or commits later is the next leader's. The rows it publishes are
    /// deleted before it returns.
    async fn publish_the_rest(&self, leader: &mut PgConnection, mut state: Leading) {
        let newest = sqlx::query_scalar!("SELECT max(id) FROM pulse_outbox")
            .fetch_one(&mut *leader)
            .await;
        let drained = match newest {
            Ok(newest) => self.drain(leader, newest.unwrap_or(0), &mut state).await,
            Err(error) => Err(error.into()),
        };
        let published = match state.acknowledged.delete(leader).await {
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

    /// Publishes every pending row with an id up to `through`, read from
    /// the outbox; returns how many. The rows acknowledged last stay in
    /// `state.acknowledged`, to be deleted by the next read.
    async fn drain(
        &self,
        conn: &mut PgConnection,
        through: i64,
        state: &mut Leading,
    ) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let read = state
                .acknowledged
                .read_next(conn, through, self.config.batch_size)
                .await?;
            if read.is_empty() {
                return Ok(total);
            }
            // A short batch was everything committed when it was read; rows
            // committed since have woken the relay again.
            let everything = read.len() < usize::try_from(self.config.batch_size).unwrap_or(0);
            let Read {
                rows,
                traced,
                unknown,
            } = Read::from(read);
            let round = self.publish_round(rows, traced, &mut state.frontier).await;
            total += round.published.len();
            state.acknowledged.extend(unknown);
            state.acknowledged.extend(round.published);
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
    /// first row needs no guard: every row of the group before it was acknowledged, or is in
    /// this round ahead of it (read together from the outbox, or known from `frontier`).
    /// Returns the ids stored (or dropped as undecodable), whether a row was refused for its
    /// turn (its predecessor failed or was a duplicate; it goes again in the next round, at
    /// once), and the first other failure; the stored rows' numbers advance `frontier`. Rows
    /// written in a traced command (`traced`) are published in spans of that trace.
    async fn publish_round(
        &self,
        rows: Vec<OutboxRow>,
        traced: Vec<Traced>,
        frontier: &mut Frontier,
    ) -> Round {
        let Planned {
            dropped,
            mut messages,
        } = plan_round(rows);
        let mut publishing = Publishing::start(traced);
        publishing.stamp(messages.iter_mut().map(|(key, message)| (key.id, message)));
        let (keys, messages): (Vec<_>, Vec<Outgoing>) = messages.into_iter().unzip();
        let started = Instant::now();
        let results = self.bus.publish_all(messages).await;
        let elapsed = started.elapsed();
        let mut round = Round {
            published: dropped,
            ..Round::default()
        };
        let (mut acknowledged, mut failed) = (0, 0);
        for (key, result) in keys.into_iter().zip(results) {
            publishing.finish(key.id, &result);
            match result {
                Ok(()) => {
                    acknowledged += 1;
                    round.published.push(key.id);
                    frontier.published(key.topic, key.sequence);
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
        round
    }
}

/// What woke a leading relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// A commit in this process handed rows over.
    Handed,
    /// A notification, the poll interval, or the delete linger: read the
    /// outbox.
    Outbox,
}

/// What a leading relay keeps between rounds.
#[derive(Debug, Default)]
struct Leading {
    acknowledged: Acknowledged,
    frontier: Frontier,
}

/// What one round of publishing did.
#[derive(Debug, Default)]
struct Round {
    published: Vec<i64>,
    out_of_turn: bool,
    failure: Option<BusError>,
}

/// Acknowledged ids kept at most before the next read of the outbox
/// deletes them, whatever the linger.
const MOST_ACKNOWLEDGED: usize = 1024;

/// Ids of rows the bus acknowledged and the outbox still holds. The next
/// read deletes them in its own statement: a busy relay pays one database
/// round trip per batch, not one to read and one to delete, and rows
/// published from the hand-off pay one per linger. Until then they are only
/// in memory; if they are lost with the relay, the next leader publishes
/// those rows again, and the bus drops them as duplicates.
#[derive(Debug, Default)]
struct Acknowledged {
    ids: Vec<i64>,
    /// When the oldest of them was acknowledged.
    since: Option<Instant>,
}

impl Acknowledged {
    fn extend(&mut self, ids: Vec<i64>) {
        if ids.is_empty() {
            return;
        }
        self.since.get_or_insert_with(Instant::now);
        self.ids.extend(ids);
    }

    /// How long until the delete is due; `None` with nothing to delete.
    fn linger_left(&self, linger: Duration) -> Option<Duration> {
        self.since
            .map(|since| linger.saturating_sub(since.elapsed()))
    }

    /// Whether the next step must read the outbox, to delete them.
    fn due(&self, linger: Duration) -> bool {
        self.ids.len() >= MOST_ACKNOWLEDGED || self.linger_left(linger) == Some(Duration::ZERO)
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
            &self.ids,
            through,
            limit,
        )
        .fetch_all(conn)
        .await?;
        self.ids.clear();
        self.since = None;
        Ok(rows)
    }

    /// Deletes the acknowledged rows, reading none.
    async fn delete(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.ids.is_empty() {
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

/// Rows read from the outbox, ready for a round.
#[derive(Debug, Default)]
struct Read {
    rows: Vec<OutboxRow>,
    traced: Vec<Traced>,
    /// Rows of a group no topic has: dropped (logged), counted as done.
    unknown: Vec<i64>,
}

impl From<Vec<PendingRow>> for Read {
    fn from(pending: Vec<PendingRow>) -> Self {
        let mut read = Read::default();
        for row in pending {
            let Some(topic) = pulse_proto::GROUP_KINDS.parse(&row.topic) else {
                tracing::error!(group = %row.topic, id = row.id, "outbox row with an unknown group; dropped");
                read.unknown.push(row.id);
                continue;
            };
            if let Some(traceparent) = row.traceparent {
                read.traced.push(Traced {
                    id: row.id,
                    traceparent,
                    written_at: row.created_at,
                });
            }
            read.rows.push(OutboxRow {
                id: row.id,
                topic,
                sequence: row.sequence,
                envelope: row.envelope,
            });
        }
        read
    }
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

#[cfg(test)]
mod tests {
    use pulse_proto::lists::LIST;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_row_of_an_unknown_group_is_dropped_and_counted_as_done() {
        let topic = LIST.topic(Uuid::new_v4());
        let row = |id: i64, group: String| PendingRow {
            id,
            topic: group,
            sequence: 1,
            envelope: Vec::new(),
            traceparent: None,
            created_at: chrono::Utc::now(),
        };
        let read = Read::from(vec![row(1, "nonsense".to_owned()), row(2, topic.group())]);
        assert_eq!(read.unknown, vec![1]);
        assert_eq!(
            read.rows
                .iter()
                .map(|row| (row.id, row.topic))
                .collect::<Vec<_>>(),
            vec![(2, topic)]
        );
    }
}
