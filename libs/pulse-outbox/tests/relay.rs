//! How a committed row reaches the relay: straight from a commit in the
//! relay's own process (published as handed over when it is the next of its
//! group, read back from the outbox when one before it was not handed over),
//! by a notification from any other process, and again after the relay lost
//! the connection that made it the active one. The poll
//! interval and the standby's retry are an hour in every test, so a row that
//! arrives arrived by the path under test, not by polling. A stopping relay
//! hands its lock to a standby at once, and a row published by a leader that
//! died before deleting it goes out once. Published rows leave the outbox
//! with the next read, after a short linger, or as the relay stops. Last, a
//! group's rows read together go out in order, and a row the broker refuses
//! holds its own group only.

use std::time::Duration;

use futures::StreamExt;
use prost::Message;
use pulse_bus::{StartAt, Topic};
use pulse_outbox::{Outbox, Relay, RelayConfig};
use pulse_proto::lists::LIST;
use pulse_proto::{
    events::v1::{Event, EventEnvelope},
    lists::v1::{event::Kind, ItemDeleted},
};
use pulse_testkit::{Events, RunningService, TestEnv, EVENT_RETENTION};
use sqlx::{postgres::PgPoolOptions, PgPool};
use uuid::Uuid;

const NEVER: Duration = Duration::from_secs(3600);

async fn pool(env: &TestEnv) -> PgPool {
    PgPoolOptions::new()
        .max_connections(4)
        .connect(&env.db.url())
        .await
        .expect("test database")
}

/// An outbox on the test database with its relay running, and a
/// subscription to one list's group.
async fn relayed(env: &TestEnv, topic: &Topic) -> (Outbox, RunningService<()>, Events) {
    let (outbox, running) = relay_on_own_pool(env, topic).await;
    let events = env.subscribe(topic, StartAt::New).await;
    (outbox, running, events)
}

/// Another process's outbox on the test database, and its relay running:
/// the active one if it gets the lock, a standby otherwise.
async fn relay_on_own_pool(env: &TestEnv, topic: &Topic) -> (Outbox, RunningService<()>) {
    relay_configured(env, topic, |_| {}).await
}

/// [`relay_on_own_pool`] with its configuration changed by `adjust`.
async fn relay_configured(
    env: &TestEnv,
    topic: &Topic,
    adjust: impl FnOnce(&mut RelayConfig),
) -> (Outbox, RunningService<()>) {
    let outbox = Outbox::new(pool(env).await);
    pulse_outbox::ensure_schema(outbox.pool())
        .await
        .expect("outbox schema");
    let mut config = RelayConfig::new(vec![topic.kind()], Duration::from_secs(60));
    config.poll_interval = NEVER;
    config.standby_retry = NEVER;
    adjust(&mut config);
    let relay = Relay::new(outbox.clone(), env.service_bus().await, config);
    let running = RunningService::spawn(|stop| async move {
        relay.run(stop).await;
        Ok(())
    });
    (outbox, running)
}

/// [`relayed`] with no delete linger, once the relay leads: after the first
/// event, only hand-offs wake it, and no notification of a commit made
/// before it led can come late and send it to the outbox.
async fn leading_without_linger(
    env: &TestEnv,
    topic: &Topic,
) -> (Outbox, RunningService<()>, Events) {
    let (outbox, relay) = relay_configured(env, topic, |config| {
        config.delete_linger = NEVER;
    })
    .await;
    let events = env.subscribe(topic, StartAt::New).await;
    pulse_testkit::wait_until("the relay leads", Duration::from_secs(10), || async {
        metric(&outbox, "pulse_relay_leader").await == 1
    })
    .await;
    (outbox, relay, events)
}

/// An event naming `item_id`, so a test can tell which one arrived.
fn deleted(item_id: String) -> Kind {
    Kind::ItemDeleted(ItemDeleted {
        item_id,
        ..ItemDeleted::default()
    })
}

async fn commit_event(outbox: &Outbox, topic: &Topic) {
    let mut tx = outbox.begin().await.expect("begin");
    let event = deleted(Uuid::new_v4().to_string());
    pulse_outbox::enqueue(&mut tx, topic, event, None)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
}

/// Commits the events in one transaction, so the relay reads them in one round.
async fn commit_together(outbox: &Outbox, events: Vec<(Topic, Kind, Option<Uuid>)>) {
    let mut tx = outbox.begin().await.expect("begin");
    pulse_outbox::enqueue_all(&mut tx, events)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
}

/// Commits an event as another process would whose commits neither hand
/// rows to this relay nor notify it: only a read of the outbox finds it.
async fn commit_unannounced(pool: &PgPool, topic: &Topic, kind: Kind) {
    let envelope = EventEnvelope {
        group: topic.group(),
        event: Some(Event::from(kind)),
        ..EventEnvelope::default()
    };
    sqlx::query("SELECT * FROM pulse_outbox_append_events($1, $2, NULL)")
        .bind(vec![topic.group()])
        .bind(vec![envelope.encode_to_vec()])
        .execute(pool)
        .await
        .expect("append");
}

/// A counter of the outbox's metrics.
async fn metric(outbox: &Outbox, name: &str) -> u64 {
    let text = outbox.metrics_text().await;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

/// Rows in the outbox: committed and not yet deleted by the relay.
async fn outbox_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pulse_outbox")
        .fetch_one(pool)
        .await
        .expect("count")
}

/// The backend holding the relay's lock on the test database, if any.
async fn lock_holder(observer: &PgPool) -> Option<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_optional(observer)
    .await
    .expect("pg_locks")
}

#[tokio::test]
async fn a_commit_wakes_the_relay_of_its_own_process_directly() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let (outbox, relay, mut events) = relayed(&env, &topic).await;
    // The first may also be found when the relay takes the lead; once it is
    // out, the relay leads, and the second has only the direct wake-up.
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    commit_event(&outbox, &topic).await;
    events.expect(2).await;
    relay.stop().await;
}

#[tokio::test]
async fn a_commit_hands_its_row_to_the_relay_which_publishes_it_without_reading_it_back() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let (outbox, relay, mut events) = leading_without_linger(&env, &topic).await;
    // The relay knows nothing of the group yet: the first is read back.
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    commit_event(&outbox, &topic).await;
    events.expect(2).await;
    assert_eq!(metric(&outbox, "pulse_relay_published_total").await, 2);
    assert_eq!(metric(&outbox, "pulse_relay_handed_total").await, 1);
    relay.stop().await;
    assert_eq!(outbox_rows(outbox.pool()).await, 0);
}

#[tokio::test]
async fn a_handed_row_waits_for_the_row_before_it_that_was_not_handed_over() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let (outbox, relay, mut events) = leading_without_linger(&env, &topic).await;
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    // The second is only in the outbox; the third, handed over, must not
    // overtake it.
    commit_unannounced(outbox.pool(), &topic, deleted("second".to_owned())).await;
    commit_event(&outbox, &topic).await;
    let Ok(Kind::ItemDeleted(second)) = Kind::try_from(events.expect(2).await) else {
        panic!("the second event is not the one committed second");
    };
    assert_eq!(second.item_id, "second");
    events.expect(3).await;
    relay.stop().await;
}

#[tokio::test]
async fn a_published_row_is_deleted_after_the_linger_when_nothing_else_commits() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let (outbox, relay, mut events) = relayed(&env, &topic).await;
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    // No commit follows and the poll interval is an hour: only the linger
    // brings the read that deletes it.
    pulse_testkit::wait_until("the row is deleted", Duration::from_secs(10), || async {
        outbox_rows(outbox.pool()).await == 0
    })
    .await;
    relay.stop().await;
}

#[tokio::test]
async fn a_stopping_relay_deletes_the_rows_it_published() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    // With the linger as long as the poll interval, published rows are
    // deleted only by a later read, or by the stop.
    let (outbox, relay) = relay_configured(&env, &topic, |config| {
        config.delete_linger = NEVER;
    })
    .await;
    let mut events = env.subscribe(&topic, StartAt::StreamSequence(1)).await;
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    // A row committed without waking the relay: only its last drain, as it
    // stops, publishes it, and nothing reads the outbox after that drain.
    commit_unannounced(outbox.pool(), &topic, deleted("unseen".to_owned())).await;
    relay.stop().await;
    events.expect(2).await;
    assert_eq!(outbox_rows(outbox.pool()).await, 0);
}

#[tokio::test]
async fn a_commit_in_another_process_notifies_the_active_relay() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let (outbox, relay, mut events) = relayed(&env, &topic).await;
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    let elsewhere = Outbox::new(pool(&env).await);
    commit_event(&elsewhere, &topic).await;
    events.expect(2).await;
    relay.stop().await;
}

#[tokio::test]
async fn a_relay_whose_connection_dies_leads_again_and_publishes_what_follows() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let (outbox, relay, mut events) = relayed(&env, &topic).await;
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    let observer = pool(&env).await;
    let leader = lock_holder(&observer)
        .await
        .expect("the relay holds its lock");
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(leader)
        .fetch_one(&observer)
        .await
        .expect("terminate");
    assert!(terminated);

    // The second may go out from memory before the relay touches its
    // connection again; the delete a linger later finds the connection gone,
    // and the relay takes its lock again on a new one.
    commit_event(&outbox, &topic).await;
    events.expect(2).await;
    pulse_testkit::wait_until("the relay leads again", Duration::from_secs(10), || async {
        lock_holder(&observer)
            .await
            .is_some_and(|pid| pid != leader)
    })
    .await;
    commit_event(&outbox, &topic).await;
    events.expect(3).await;
    relay.stop().await;
}

/// Waits until a backend other than `leader` has tried for the relay lock
/// and been refused: a standby stands by.
async fn standing_by(observer: &PgPool, leader: i32) {
    pulse_testkit::wait_until("a standby tried", Duration::from_secs(10), || async {
        let tried: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> $1
             AND query LIKE '%pg_try_advisory_lock%' AND state = 'idle'",
        )
        .bind(leader)
        .fetch_one(observer)
        .await
        .expect("pg_stat_activity");
        tried > 0
    })
    .await;
}

#[tokio::test]
async fn a_stopping_relay_hands_its_lock_to_a_standby_at_once() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let (outbox, leader_relay, mut events) = relayed(&env, &topic).await;
    commit_event(&outbox, &topic).await;
    events.expect(1).await;
    let observer = pool(&env).await;
    let leader = lock_holder(&observer).await.expect("the first relay leads");
    let (standby_outbox, standby) = relay_on_own_pool(&env, &topic).await;
    standing_by(&observer, leader).await;

    // A commit the stopping leader must still publish, then the stop: the
    // standby never retries on its own, so only the hand-over can wake it.
    commit_event(&outbox, &topic).await;
    leader_relay.stop().await;
    events.expect(2).await;
    commit_event(&standby_outbox, &topic).await;
    events.expect(3).await;
    let holder = lock_holder(&observer).await;
    assert!(
        holder.is_some_and(|pid| pid != leader),
        "the standby holds the lock: {holder:?}"
    );
    standby.stop().await;
}

/// The envelope the relay publishes for `topic`'s event `sequence`.
fn published(topic: &Topic, sequence: u64, kind: Kind) -> bytes::Bytes {
    EventEnvelope {
        group: topic.group(),
        sequence,
        event: Some(Event::from(kind)),
        ..EventEnvelope::default()
    }
    .encode_to_vec()
    .into()
}

#[tokio::test]
async fn rows_a_dead_leader_published_but_did_not_delete_go_out_once() {
    let env = TestEnv::new().await;
    let topic = LIST.topic(Uuid::new_v4());
    let outbox = Outbox::new(pool(&env).await);
    pulse_outbox::ensure_schema(outbox.pool())
        .await
        .expect("outbox schema");
    commit_together(
        &outbox,
        (0..3)
            .map(|n| (topic, deleted(n.to_string()), None))
            .collect(),
    )
    .await;
    // What a leader killed mid-round leaves: the first two rows are in the
    // stream under their message ids, and all three are still in the outbox.
    let mut events = env.subscribe(&topic, StartAt::StreamSequence(1)).await;
    let bus = env.service_bus().await;
    // A round trip first, as the relay's own start makes: until the server
    // has introduced itself, the client knows no payload limit.
    bus.ensure_stream(topic.kind(), EVENT_RETENTION)
        .await
        .expect("stream");
    for sequence in 1..=2 {
        let kind = deleted((sequence - 1).to_string());
        bus.publish(
            &topic,
            &format!("{}:{sequence}", topic.group()),
            published(&topic, sequence, kind),
        )
        .await
        .expect("published by the leader that died");
    }

    let (_, relay) = relay_on_own_pool(&env, &topic).await;
    for sequence in 1..=3 {
        events.expect(sequence).await;
    }
    commit_event(&outbox, &topic).await;
    // The next is 4: nothing went twice in between.
    events.expect(4).await;
    assert_eq!(env.outbox_sequence(&topic).await, 4);
    relay.stop().await;
}

#[tokio::test]
async fn a_groups_burst_goes_out_in_order_beside_another_group() {
    let env = TestEnv::new().await;
    let (burst, other) = (LIST.topic(Uuid::new_v4()), LIST.topic(Uuid::new_v4()));
    let (outbox, relay, mut events) = relayed(&env, &burst).await;
    let mut others = env.subscribe(&other, StartAt::New).await;
    // One transaction, so the relay reads every row in one round, the burst's rows each
    // naming the one before it (a wrong name would still come out in order, one row a round:
    // `plan_round`'s unit test checks the names).
    let mut rows: Vec<_> = (0..5)
        .map(|n| (burst, deleted(n.to_string()), None))
        .collect();
    rows.insert(2, (other, deleted("other".to_owned()), None));
    commit_together(&outbox, rows).await;
    for sequence in 1..=5 {
        let Ok(Kind::ItemDeleted(event)) = Kind::try_from(events.expect(sequence).await) else {
            panic!("event {sequence} is not the one enqueued");
        };
        assert_eq!(event.item_id, (sequence - 1).to_string());
    }
    others.expect(1).await;
    relay.stop().await;
}

#[tokio::test]
async fn a_row_the_broker_refuses_holds_its_group_and_only_its_group() {
    let env = TestEnv::new().await;
    let (blocked, other) = (LIST.topic(Uuid::new_v4()), LIST.topic(Uuid::new_v4()));
    let (outbox, relay, mut events) = relayed(&env, &blocked).await;
    let mut others = env.subscribe(&other, StartAt::New).await;
    // One transaction, so the relay reads the rows in one round. The second is larger than
    // NATS takes (1 MiB): it can never be published, and the third must never overtake it.
    commit_together(
        &outbox,
        vec![
            (blocked, deleted("first".to_owned()), None),
            (blocked, deleted("x".repeat(2 << 20)), None),
            (blocked, deleted("third".to_owned()), None),
            (other, deleted("other".to_owned()), None),
        ],
    )
    .await;
    events.expect(1).await;
    others.expect(1).await;
    // The round is over once its published rows are deleted: the refused row and the one
    // behind it stay.
    pulse_testkit::wait_until("2 rows left", Duration::from_secs(10), || async {
        outbox_rows(outbox.pool()).await == 2
    })
    .await;
    // The third row went out in that round too, and was refused: the blocked group's last
    // message in the stream is still its first.
    let bus = env.service_bus().await;
    let mut replay = bus
        .subscribe(&blocked, StartAt::StreamSequence(1))
        .await
        .expect("replay");
    let first = tokio::time::timeout(Duration::from_secs(10), replay.next())
        .await
        .expect("the first event in time")
        .expect("replay open")
        .expect("delivery");
    assert_eq!(
        bus.last_stream_sequence(&blocked).await.expect("last"),
        Some(first.stream_sequence)
    );
    // A later event of the other group still goes out.
    commit_event(&outbox, &other).await;
    others.expect(2).await;
    relay.stop().await;
}
