//! The command path through PostgreSQL: concurrent gRPC writers sending
//! `AddItem` (each a transaction with its outbox row, then the relay, NATS
//! and the gateway to a joined WebSocket), a single writer's `AddItem`s one
//! after another (round trip and push), and in the same run `pgbench`
//! committing the one-transaction minimum an `AddItem` needs — the ceiling this machine's PostgreSQL sets. Then the same
//! commands offered at a fixed rate below that ceiling, whatever the acks do:
//! a closed loop of writers always waits writers ÷ rate per command on average
//! (Little's law), so only an open loop shows the latency a client sees at a
//! load the server carries.

use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use pulse_testkit::TestDatabase;
use tokio::{
    process::Command,
    time::{interval, MissedTickBehavior},
};

use crate::{
    client::{within, Client},
    contender::{self, Bearer, Contender},
    scenario::Crowd,
    stats::{per_second, quantile_ms, Delivery},
};

/// Lists the writers spread their commands over, each watched by one client.
const LISTS: usize = 50;
const RUN: u32 = 3;
const ROUND_TRIP_RUN: u32 = 4;
const OFFERED_RUN: u32 = 5;
/// The open loop offers this share of the rate the closed loop reached.
const OFFERED_SHARE: f64 = 0.8;
/// gRPC connections the open loop spreads its calls over (each carries many at once).
const OFFERING_CHANNELS: usize = 8;
const PUSH_WAIT: Duration = Duration::from_secs(30);
/// Longest any other step may take before the run names it and gives up.
const STEP_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct CommandPath {
    pub writers: usize,
    pub commands_per_second: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub push_p50_ms: f64,
    pub push_p99_ms: f64,
    pub lost: u64,
    pub duplicated: u64,
    pub round_trip_p50_ms: f64,
    /// Send→push of those round trips: a lone command's way to its
    /// watcher, with nothing else in the relay's way.
    pub lone_push_p50_ms: f64,
    pub lone_lost: u64,
    pub lone_duplicated: u64,
    pub offered: Offered,
    pub pgbench_tps: f64,
    pub pgbench_latency_ms: f64,
}

pub async fn run(
    contender: &mut Contender<'_>,
    crowd: &Crowd,
    writers: usize,
    time: Duration,
    round_trips: usize,
) -> Result<CommandPath> {
    let Contender::Pulse { suite, bearer, .. } = &*contender else {
        bail!("the command path is Pulse's only");
    };
    let (suite, bearer) = (*suite, bearer.clone());
    let watchers = &crowd.clients[..LISTS.min(crowd.clients.len())];
    let mut lists = Vec::with_capacity(watchers.len());
    for (index, watcher) in watchers.iter().enumerate() {
        let list = contender.group(&format!("bench-commands-{index}")).await?;
        watcher.join(&list).await?;
        lists.push(list);
    }
    let lists = Arc::new(lists);
    crowd.tally.stamps.store(0, Ordering::Relaxed);

    let next = Arc::new(AtomicU32::new(0));
    let stop_at = Instant::now() + time;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(writers);
    for _ in 0..writers {
        let client = ShoppingListsClient::new(contender::grpc_channel(suite).await?);
        tasks.push(tokio::spawn(writer(
            client,
            bearer.clone(),
            lists.clone(),
            next.clone(),
            stop_at,
        )));
    }
    let mut acks = Vec::new();
    for task in tasks {
        acks.append(&mut task.await.context("writer task")??);
    }
    let elapsed = started.elapsed();
    acks.sort_unstable();
    let sent = next.load(Ordering::Relaxed);
    let commands = acks.len() as u64;
    println!("Pulse: {commands} AddItem from {writers} writers in {elapsed:.2?}");

    let delivery = pushes(crowd, watchers, RUN, sent).await?;
    println!(
        "Pulse: {} pushes received ({} lost, {} duplicated)",
        delivery.delivered, delivery.lost, delivery.duplicated
    );

    crowd.tally.stamps.store(0, Ordering::Relaxed);
    let round_trip = within(
        "the single-connection round trips",
        STEP_LIMIT,
        round_trip(suite, &bearer, &lists[0], round_trips),
    )
    .await?;
    let sent = u32::try_from(round_trips).map_err(|_| anyhow!("too many round trips"))?;
    let lone = pushes(crowd, &watchers[..1], ROUND_TRIP_RUN, sent).await?;
    let lone_push = quantile_ms(&lone.latencies, 0.5);
    println!(
        "Pulse: single-connection AddItem round trip p50 {round_trip:.2} ms, send→push p50 {lone_push:.2} ms ({} lost, {} duplicated)",
        lone.lost, lone.duplicated
    );
    let rate = (per_second(commands, elapsed.as_micros() as u64) * OFFERED_SHARE).max(1.0);
    let offered = within(
        "the offered commands",
        time + PUSH_WAIT + STEP_LIMIT,
        offer(suite, &bearer, &lists, watchers, crowd, rate as u32, time),
    )
    .await?;
    println!(
        "Pulse: {} AddItem/s offered: ack p50 {:.1} ms, push p50 {:.1} ms p99 {:.1} ms, {} lost, {} duplicated",
        offered.rate, offered.ack_p50_ms, offered.push_p50_ms, offered.push_p99_ms, offered.lost, offered.duplicated
    );
    let (pgbench_tps, pgbench_latency_ms) =
        within("pgbench", time + STEP_LIMIT, pgbench(writers, time)).await?;
    println!("pgbench: {pgbench_tps:.0} transactions/s, mean latency {pgbench_latency_ms:.1} ms");
    Ok(CommandPath {
        writers,
        commands_per_second: per_second(commands, elapsed.as_micros() as u64),
        ack_p50_ms: quantile_ms(&acks, 0.5),
        ack_p99_ms: quantile_ms(&acks, 0.99),
        push_p50_ms: quantile_ms(&delivery.latencies, 0.5),
        push_p99_ms: quantile_ms(&delivery.latencies, 0.99),
        lost: delivery.lost,
        duplicated: delivery.duplicated,
        round_trip_p50_ms: round_trip,
        lone_push_p50_ms: lone_push,
        lone_lost: lone.lost,
        lone_duplicated: lone.duplicated,
        offered,
        pgbench_tps,
        pgbench_latency_ms,
    })
}

/// `AddItem`s sent at a fixed rate, and what their watchers received.
#[derive(Debug)]
pub struct Offered {
    pub rate: u32,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub push_p50_ms: f64,
    pub push_p99_ms: f64,
    pub lost: u64,
    pub duplicated: u64,
}

/// Sends `rate` `AddItem`s a second over the lists for `time`, each call on its own task
/// (calls in flight are not limited: a server that falls behind shows it as latency), then
/// waits for the watchers' pushes.
async fn offer(
    suite: &crate::servers::PulseSuite,
    bearer: &Bearer,
    lists: &[String],
    watchers: &[Client],
    crowd: &Crowd,
    rate: u32,
    time: Duration,
) -> Result<Offered> {
    let mut channels = Vec::with_capacity(OFFERING_CHANNELS);
    for _ in 0..OFFERING_CHANNELS {
        channels.push(ShoppingListsClient::new(
            contender::grpc_channel(suite).await?,
        ));
    }
    let total = u32::try_from((f64::from(rate) * time.as_secs_f64()) as u64)
        .map_err(|_| anyhow!("too many offered commands"))?;
    crowd.tally.stamps.store(0, Ordering::Relaxed);
    let mut ticker = interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut calls = Vec::with_capacity(total as usize);
    for index in 0..total {
        ticker.tick().await;
        let mut client = channels[index as usize % channels.len()].clone();
        let list = &lists[index as usize % lists.len()];
        let request = contender::add_item(list, OFFERED_RUN, index, bearer);
        calls.push(tokio::spawn(async move {
            let sent = Instant::now();
            client.add_item(request).await.context("AddItem")?;
            Ok::<_, anyhow::Error>(sent.elapsed().as_micros() as u64)
        }));
    }
    let mut acks = Vec::with_capacity(calls.len());
    for call in calls {
        acks.push(call.await.context("offered call")??);
    }
    acks.sort_unstable();
    let delivery = pushes(crowd, watchers, OFFERED_RUN, total).await?;
    Ok(Offered {
        rate,
        ack_p50_ms: quantile_ms(&acks, 0.5),
        ack_p99_ms: quantile_ms(&acks, 0.99),
        push_p50_ms: quantile_ms(&delivery.latencies, 0.5),
        push_p99_ms: quantile_ms(&delivery.latencies, 0.99),
        lost: delivery.lost,
        duplicated: delivery.duplicated,
    })
}

/// The pushes of run `run`'s `sent` commands, once the watchers have them all (or
/// [`PUSH_WAIT`] passed): each command went to one list, so across its watchers each index
/// arrives once.
async fn pushes(crowd: &Crowd, watchers: &[Client], run: u32, sent: u32) -> Result<Delivery> {
    crowd.tally.reached(u64::from(sent), PUSH_WAIT).await;
    let mut arrivals = Vec::new();
    for watcher in watchers {
        arrivals.append(&mut within("a watcher's report", STEP_LIMIT, watcher.report()).await?);
    }
    let mut delivery = Delivery::default();
    delivery.add_member(&arrivals, run, sent);
    delivery.finish();
    Ok(delivery)
}

/// Sends `AddItem`s one after another until `stop_at`; the ack times (µs).
async fn writer(
    mut client: ShoppingListsClient<tonic::transport::Channel>,
    bearer: Bearer,
    lists: Arc<Vec<String>>,
    next: Arc<AtomicU32>,
    stop_at: Instant,
) -> Result<Vec<u64>> {
    let mut acks = Vec::new();
    while Instant::now() < stop_at {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let list = &lists[index as usize % lists.len()];
        let sent = Instant::now();
        client
            .add_item(contender::add_item(list, RUN, index, &bearer))
            .await
            .context("AddItem")?;
        acks.push(sent.elapsed().as_micros() as u64);
    }
    Ok(acks)
}

/// Median of `count` sequential `AddItem`s on one connection, in ms.
async fn round_trip(
    suite: &crate::servers::PulseSuite,
    bearer: &Bearer,
    list: &str,
    count: usize,
) -> Result<f64> {
    let mut client = ShoppingListsClient::new(contender::grpc_channel(suite).await?);
    let mut times = Vec::with_capacity(count);
    for index in 0..count {
        let index = u32::try_from(index).map_err(|_| anyhow!("too many round trips"))?;
        let sent = Instant::now();
        client
            .add_item(contender::add_item(list, ROUND_TRIP_RUN, index, bearer))
            .await
            .context("AddItem")?;
        times.push(sent.elapsed().as_micros() as u64);
    }
    times.sort_unstable();
    Ok(quantile_ms(&times, 0.5))
}

/// What an `AddItem` must commit at least: the item row, the group's next
/// sequence, and the outbox row with an event of about the same size.
const SCHEMA: &str = "
CREATE TABLE items (id UUID PRIMARY KEY, list_id INTEGER NOT NULL, name TEXT NOT NULL,
    quantity DOUBLE PRECISION NOT NULL, position INTEGER NOT NULL, created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL);
CREATE INDEX items_by_list ON items (list_id, position);
CREATE TABLE event_sequences (topic TEXT PRIMARY KEY, last_sequence BIGINT NOT NULL);
CREATE TABLE outbox (id BIGSERIAL PRIMARY KEY, topic TEXT NOT NULL, sequence BIGINT NOT NULL,
    envelope BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
";

const SCRIPT: &str = "\\set list random(1, 50)
BEGIN;
INSERT INTO items VALUES (gen_random_uuid(), :list, 'bench', 1, 0, gen_random_uuid(), now());
INSERT INTO event_sequences VALUES ('list_' || :list, 1) ON CONFLICT (topic) DO UPDATE SET last_sequence = event_sequences.last_sequence + 1 RETURNING last_sequence AS seq \\gset
INSERT INTO outbox (topic, sequence, envelope) VALUES ('list_' || :list, :seq, convert_to(repeat('x', 600), 'UTF8'));
COMMIT;
";

/// `pgbench` with `clients` connections for `time` on a fresh database;
/// returns transactions per second and the mean latency in ms.
async fn pgbench(clients: usize, time: Duration) -> Result<(f64, f64)> {
    let database = TestDatabase::create().await;
    let url = database.url();
    let schema = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", &url, "-c", SCHEMA])
        .output()
        .await
        .context("running psql")?;
    if !schema.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&schema.stderr));
    }
    let script = tempfile_path("pulse-bench-pgbench.sql");
    std::fs::write(&script, SCRIPT).context("writing the pgbench script")?;
    let output = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(["-c", &clients.to_string()])
        .args(["-T", &time.as_secs().max(1).to_string()])
        .arg("-f")
        .arg(&script)
        .arg(&url)
        .output()
        .await
        .context("running pgbench")?;
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let number_after = |prefix: &str| -> Result<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow!("pgbench printed no '{prefix}': {text}"))
    };
    Ok((number_after("tps = ")?, number_after("latency average = ")?))
}

fn tempfile_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{}-{name}", std::process::id()))
}
