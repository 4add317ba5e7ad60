//! Two `pulse lists` replicas on one database: commands through either,
//! one relay, and the relay's takeover when its replica is killed or
//! stopped, checked event by event against the database.

use std::{
    collections::HashMap,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use pulse_testkit::wait_until;
use uuid::Uuid;

use crate::{
    helpers::{
        add_item, assert_exactly_once, create_lists, lists_client, within_a_minute, Deployment,
        Stored, PATIENCE, STANDBY_RETRY,
    },
    writer::{Writer, Written},
};

/// Two lists replicas, the index of the one whose relay leads, then the
/// other's.
async fn two_replicas() -> (Deployment, usize, usize) {
    let mut deployment = Deployment::new().await;
    let first = deployment.start("lists", "lists").await;
    let second = deployment.start("lists", "lists").await;
    let leader = deployment.sole_leader(&[first, second]).await;
    let standby = if leader == first { second } else { first };
    (deployment, leader, standby)
}

/// How many times each added item was stored.
fn stored_items(stored: &[Stored]) -> HashMap<&str, usize> {
    let mut items = HashMap::new();
    for name in stored.iter().filter_map(|m| m.item_name.as_deref()) {
        *items.entry(name).or_default() += 1;
    }
    items
}

/// Every call answered OK has its event stored exactly once.
fn assert_acknowledged_stored_once(written: &Written, items: &HashMap<&str, usize>) {
    for name in &written.ok {
        assert_eq!(items.get(name.as_str()), Some(&1), "{name} stored once");
    }
}

/// Commands flowing through both replicas: one caller through the
/// standby, `to_leader` callers sharing one connection to the leader (so
/// calls are in flight on it together), on four lists of one user.
struct Traffic {
    through_standby: Writer,
    through_leader: Vec<Writer>,
}

impl Traffic {
    async fn start(
        deployment: &Deployment,
        leader: usize,
        standby: usize,
        to_leader: usize,
    ) -> Self {
        let user = Uuid::new_v4();
        let mut client = lists_client(deployment.replicas[standby].addr(), user).await;
        let lists = create_lists(&mut client, 4).await;
        let through_standby = Writer::start(client, lists.clone(), "standby".to_owned());
        let connection = lists_client(deployment.replicas[leader].addr(), user).await;
        let through_leader = (0..to_leader)
            .map(|n| Writer::start(connection.clone(), lists.clone(), format!("leader {n}")))
            .collect();
        Self {
            through_standby,
            through_leader,
        }
    }

    /// Waits until each caller has had `count` calls answered.
    async fn flowing(&self, count: usize) {
        self.through_standby.until_succeeded(count).await;
        for writer in &self.through_leader {
            writer.until_succeeded(count).await;
        }
    }

    /// Waits for `count` more calls through the standby, then stops every
    /// caller: what went through the standby, and through the leader.
    async fn stop_after(self, count: usize) -> (Written, Written) {
        let after = self.through_standby.succeeded() + count;
        self.through_standby.until_succeeded(after).await;
        let through_standby = self.through_standby.stop().await;
        let mut through_leader = Written::default();
        for writer in self.through_leader {
            let written = writer.stop().await;
            through_leader.ok.extend(written.ok);
            through_leader.failed.extend(written.failed);
        }
        (through_standby, through_leader)
    }
}

/// Once every writer stopped and the outbox drained: checks the stream
/// against the database, finds every call answered OK stored once, and no
/// call through the standby failed. Returns what was stored and how many
/// numbered events.
async fn settled(
    deployment: &Deployment,
    through_standby: &Written,
    through_leader: &Written,
) -> (Vec<Stored>, u64) {
    deployment.outbox_drained().await;
    let stored = deployment.stored().await;
    let events = assert_exactly_once(&stored, &deployment.committed().await);
    let items = stored_items(&stored);
    assert_acknowledged_stored_once(through_standby, &items);
    assert_acknowledged_stored_once(through_leader, &items);
    assert!(
        through_standby.failed.is_empty(),
        "{:?}",
        through_standby.failed
    );
    (stored, events)
}

/// Waits until `replica` reports leading the relay; how long that took.
async fn leads(deployment: &Deployment, replica: usize) -> Duration {
    let started = Instant::now();
    wait_until("the standby leads", PATIENCE, || async {
        deployment.replicas[replica].relay_leader().await == Some(true)
    })
    .await;
    started.elapsed()
}

fn nanos_since_epoch(at: SystemTime) -> i128 {
    i128::try_from(
        at.duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos(),
    )
    .expect("fits")
}

/// The longest time between two consecutive stored messages from `since`
/// on, counting from the last stored before it: with events committed
/// every few milliseconds throughout, the relay's longest pause.
fn longest_pause(stored: &[Stored], since: SystemTime) -> Duration {
    let since = nanos_since_epoch(since);
    let mut times: Vec<i128> = stored.iter().map(|m| m.at_nanos).collect();
    times.sort_unstable();
    let start = times.partition_point(|&at| at < since).saturating_sub(1);
    let longest = times[start..]
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or(0);
    Duration::from_nanos(u64::try_from(longest).expect("positive"))
}

#[tokio::test]
async fn commands_through_either_replica_are_stored_once_in_order_by_one_relay() {
    within_a_minute(async {
        let (deployment, leader, standby) = two_replicas().await;
        let user = Uuid::new_v4();
        let mut clients = [
            lists_client(deployment.replicas[leader].addr(), user).await,
            lists_client(deployment.replicas[standby].addr(), user).await,
        ];
        let lists = create_lists(&mut clients[1], 4).await;
        let mut names = Vec::new();
        for n in 0..200 {
            let name = format!("item {n}");
            clients[n % 2]
                .add_item(add_item(&lists[n % lists.len()], &name))
                .await
                .expect("added through either replica");
            names.push(name);
            if n % 25 == 0 {
                assert_eq!(deployment.sole_leader(&[leader, standby]).await, leader);
            }
        }
        deployment.outbox_drained().await;

        let stored = deployment.stored().await;
        let events = assert_exactly_once(&stored, &deployment.committed().await);
        let items = stored_items(&stored);
        assert_eq!(items.len(), names.len(), "every add stored, nothing else");
        assert_acknowledged_stored_once(
            &Written {
                ok: names,
                failed: Vec::new(),
            },
            &items,
        );
        assert_eq!(deployment.sole_leader(&[leader, standby]).await, leader);
        println!(
            "200 adds through 2 replicas: {events} events stored once, in order, by one relay"
        );
    })
    .await;
}

#[tokio::test]
async fn a_killed_leaders_relay_is_taken_over_within_the_retry() {
    within_a_minute(async {
        let (mut deployment, leader, standby) = two_replicas().await;
        let traffic = Traffic::start(&deployment, leader, standby, 1).await;
        traffic.flowing(50).await;

        deployment.replicas[leader].kill().await;
        let left_behind = deployment.waiting().await;
        let takeover = leads(&deployment, standby).await;
        let (standby_written, leader_written) = traffic.stop_after(50).await;
        let (_, events) = settled(&deployment, &standby_written, &leader_written).await;
        println!(
            "SIGKILL of the leader: {left_behind} events unpublished when it died; \
             the standby leads after {takeover:?} (retry {STANDBY_RETRY:?}); \
             {events} events stored once in order; {} calls OK through the standby, \
             {} OK and {} failed through the killed leader",
            standby_written.ok.len(),
            leader_written.ok.len(),
            leader_written.failed.len(),
        );
        // PostgreSQL ends a killed process's session at once (the kernel
        // closes its socket); the standby's next try, at most STANDBY_RETRY
        // later, wins (the margin is for a loaded machine).
        assert!(
            takeover < STANDBY_RETRY + Duration::from_millis(1500),
            "takeover took {takeover:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_leader_killed_with_events_unpublished_leaves_them_to_the_standby() {
    within_a_minute(async {
        let (mut deployment, leader, standby) = two_replicas().await;
        let traffic = Traffic::start(&deployment, leader, standby, 1).await;
        traffic.flowing(20).await;

        // With NATS gone the relay cannot publish: commands through both
        // replicas keep committing, and their events pile up in the outbox.
        deployment.nats.stop();
        wait_until("events piled up", PATIENCE, || async {
            deployment.waiting().await >= 50
        })
        .await;
        deployment.replicas[leader].kill().await;
        let left_behind = deployment.waiting().await;
        deployment.nats.restart();
        let takeover = leads(&deployment, standby).await;
        let (standby_written, leader_written) = traffic.stop_after(20).await;
        let (_, events) = settled(&deployment, &standby_written, &leader_written).await;
        println!(
            "SIGKILL of the leader with {left_behind} events unpublished (NATS down): \
             the standby leads {takeover:?} after NATS is back and publishes them; \
             {events} events stored once in order"
        );
    })
    .await;
}

#[tokio::test]
async fn a_stopped_leader_finishes_its_calls_and_hands_the_relay_over_without_a_gap() {
    within_a_minute(async {
        let (mut deployment, leader, standby) = two_replicas().await;
        let traffic = Traffic::start(&deployment, leader, standby, 4).await;
        traffic.flowing(20).await;

        let stopped_at = SystemTime::now();
        deployment.replicas[leader].terminate();
        let takeover = leads(&deployment, standby).await;
        let status = deployment.replicas[leader].exits_within(PATIENCE).await;
        assert!(
            status.success(),
            "the stopped replica exits cleanly: {status}"
        );
        let (standby_written, leader_written) = traffic.stop_after(50).await;
        let (stored, events) = settled(&deployment, &standby_written, &leader_written).await;
        let items = stored_items(&stored);
        // A call the stopping replica did not take changed nothing: refused
        // (UNAVAILABLE: the connection refused, or the stream refused after
        // GOAWAY) or never sent (CANCELLED: the client's connection closed
        // before it went out).
        for (name, code) in &leader_written.failed {
            assert!(
                matches!(code, tonic::Code::Unavailable | tonic::Code::Cancelled),
                "{name} failed with {code:?}"
            );
            assert!(
                !items.contains_key(name.as_str()),
                "refused {name} was stored"
            );
        }
        let pause = longest_pause(&stored, stopped_at);
        println!(
            "SIGTERM of the leader: the standby leads after {takeover:?}; \
             longest pause between stored events since: {pause:?} (retry {STANDBY_RETRY:?}); \
             {events} events stored once in order; {} calls OK through the standby, \
             {} OK and {} refused through the stopped leader",
            standby_written.ok.len(),
            leader_written.ok.len(),
            leader_written.failed.len(),
        );
        // 20-80 ms on a quiet machine, ~200 ms with three such runs at
        // once on two cores; a standby left to its retry would wait 2 s.
        assert!(
            pause < STANDBY_RETRY / 2,
            "the relay paused {pause:?} in the hand-over"
        );
    })
    .await;
}
