//! The race one server runs, in order: connect every client (connects/s),
//! hold them idle (memory per connection), join many to one group (join
//! time), then fan out to a small and a large group (deliveries/s, latency,
//! CPU per delivery, loss and duplicates per client).

use std::{
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use futures::{stream, StreamExt};
use tokio::time::{interval, sleep, MissedTickBehavior};

use crate::{
    args::{FanoutSize, Sizes},
    client::{within, Client, Tally, Transport, Wire},
    contender::{Contender, Produced},
    marker, proc_stats,
    stats::{per_second, quantile_ms, Delivery},
};

/// How long the server's memory must stay flat before idle memory is read.
const SETTLE: Duration = Duration::from_secs(2);
const SETTLE_LIMIT: Duration = Duration::from_secs(20);
/// A fan-out that makes no progress this long is over (what is missing is lost).
const STALL: Duration = Duration::from_secs(15);
const CLOSE_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Fanout {
    pub size: FanoutSize,
    pub deliveries_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub lost: u64,
    pub duplicated: u64,
    pub cpu_micros_per_delivery: f64,
    /// The server's CPU time over the fan-out's wall time: with both servers CPU-bound on
    /// the same cores, the share each got explains as much of its rate as its cost does.
    pub cores_busy: f64,
    /// This process's CPU per delivery (its clients read and check every frame), which the
    /// servers share the machine with.
    pub client_cpu_micros_per_delivery: f64,
}

#[derive(Debug)]
pub struct Race {
    pub held: usize,
    pub connect_failures: usize,
    pub connects_per_second: f64,
    pub idle_kib_per_connection: f64,
    pub joined: usize,
    /// Joins the server refused or did not confirm in time (their clients sit the fan-out out).
    pub join_failures: usize,
    pub join_time: Duration,
    pub fanouts: Vec<Fanout>,
    /// Bytes per message frame the clients saw (Pulse's sets the peer's payload).
    pub frame_bytes: usize,
    /// Clients whose socket failed during the run.
    pub client_failures: usize,
}

/// Connected clients and the counters they share; kept for the command path.
pub struct Crowd {
    pub clients: Vec<Client>,
    pub tally: Arc<Tally>,
}

impl Crowd {
    /// Closes every client, at most [`CLOSE_LIMIT`] long.
    pub async fn close(self) {
        let closing = futures::future::join_all(self.clients.into_iter().map(Client::close));
        let _ = tokio::time::timeout(CLOSE_LIMIT, closing).await;
    }
}

/// Runs the race against one server; returns its figures and the clients,
/// still connected.
pub async fn run(
    contender: &mut Contender<'_>,
    sizes: &Sizes,
    http: &reqwest::Client,
    give_up: Instant,
) -> Result<(Race, Crowd)> {
    let name = contender.name();
    let tally = Arc::new(Tally::default());
    let rss_before = settled_rss(contender).await?;
    println!("{name}: connecting {} clients", sizes.connections);
    let target = contender.target(Transport::WebSockets, Wire::Json);
    let started = Instant::now();
    let outcomes: Vec<Result<Client>> = stream::iter(0..sizes.connections)
        .map(|_| Client::connect(&target, http, tally.clone()))
        .buffer_unordered(sizes.connect_concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut clients = Vec::with_capacity(outcomes.len());
    let mut connect_failures = 0;
    for outcome in outcomes {
        match outcome {
            Ok(client) => clients.push(client),
            Err(error) => {
                if connect_failures == 0 {
                    eprintln!("{name}: first failed connect: {error:#}");
                }
                connect_failures += 1;
            }
        }
    }
    if clients.len() < sizes.join.max(sizes.fanouts[0].members) {
        bail!(
            "{name}: only {} of {} clients connected",
            clients.len(),
            sizes.connections
        );
    }
    let held = clients.len();
    let connects_per_second = per_second(held as u64, elapsed.as_micros() as u64);
    let rss_after = settled_rss(contender).await?;
    let idle_kib_per_connection = rss_after.saturating_sub(rss_before) as f64 / held as f64;
    println!(
        "{name}: {held} held ({connects_per_second:.0}/s), {idle_kib_per_connection:.1} KiB each"
    );

    let large = sizes.fanouts[1];
    let group = contender.group("bench-large").await?;
    let started = Instant::now();
    let large_members = join_all(
        name,
        &clients[..large.members],
        &group,
        sizes.join_concurrency,
    )
    .await;
    let join_time = started.elapsed();
    let join_failures = large.members - large_members.len();
    println!(
        "{name}: {} of {} joined one group in {join_time:.2?}",
        large_members.len(),
        large.members
    );
    let large_result = fanout(contender, &large_members, &group, large, 2, &tally, give_up)
        .await
        .context("large fan-out")?;

    let small = sizes.fanouts[0];
    // Members of the small group are the clients the large one did not use, where there are enough.
    let start = held.saturating_sub(small.members).min(large.members);
    let group = contender.group("bench-small").await?;
    let small_members = join_all(name, &clients[start..start + small.members], &group, None).await;
    let small_result = fanout(contender, &small_members, &group, small, 1, &tally, give_up)
        .await
        .context("small fan-out")?;

    let race = Race {
        held,
        connect_failures,
        connects_per_second,
        idle_kib_per_connection,
        joined: large.members,
        join_failures,
        join_time,
        fanouts: vec![small_result, large_result],
        frame_bytes: tally.frame_bytes.load(Ordering::Relaxed),
        client_failures: tally.failed.load(Ordering::Relaxed),
    };
    Ok((race, Crowd { clients, tally }))
}

/// Run number of the stamps of [`wire_fanout`] (the race and the command
/// path use 1 to 4; each wire fan-out has a group of its own, so they can
/// share one).
const WIRE_RUN: u32 = 5;

/// A fan-out of `size` to clients of their own speaking `wire` over
/// `transport`, connected for it and closed after: the race's measure in
/// another of Pulse's protocols or transports.
pub async fn wire_fanout(
    contender: &mut Contender<'_>,
    transport: Transport,
    wire: Wire,
    size: FanoutSize,
    http: &reqwest::Client,
    give_up: Instant,
) -> Result<Fanout> {
    let name = contender.name();
    let tally = Arc::new(Tally::default());
    let target = contender.target(transport, wire);
    let speaking = format!("{wire} over {transport}");
    println!(
        "{name}: connecting {} clients speaking {speaking}",
        size.members
    );
    let clients = stream::iter(0..size.members)
        .map(|_| Client::connect(&target, http, tally.clone()))
        .buffer_unordered(64)
        .collect::<Vec<Result<Client>>>()
        .await
        .into_iter()
        .collect::<Result<Vec<Client>>>()
        .with_context(|| format!("connecting clients speaking {speaking}"))?;
    let group = contender.group("bench-wire").await?;
    let members = join_all(name, &clients, &group, None).await;
    let result = fanout(contender, &members, &group, size, WIRE_RUN, &tally, give_up).await;
    drop(members);
    Crowd { clients, tally }.close().await;
    result.with_context(|| format!("fan-out in {speaking}"))
}

/// Joins every client to `group`, `concurrency` at a time (`None`: all at
/// once); the clients whose join succeeded.
async fn join_all<'c>(
    name: &str,
    clients: &'c [Client],
    group: &str,
    concurrency: Option<usize>,
) -> Vec<&'c Client> {
    let outcomes: Vec<Result<()>> = stream::iter(clients.iter().map(|c| c.join(group)))
        .buffered(concurrency.unwrap_or(clients.len()).max(1))
        .collect()
        .await;
    let mut joined = Vec::with_capacity(clients.len());
    let mut failures = 0;
    for (client, outcome) in clients.iter().zip(outcomes) {
        match outcome {
            Ok(()) => joined.push(client),
            Err(error) => {
                if failures == 0 {
                    eprintln!("{name}: first failed join: {error:#}");
                }
                failures += 1;
            }
        }
    }
    joined
}

/// The server's RSS once it has stopped moving (allocators return memory lazily).
async fn settled_rss(contender: &Contender<'_>) -> Result<u64> {
    let server = contender.server();
    let started = Instant::now();
    let mut last = server.rss_kib()?;
    let mut stable_since = Instant::now();
    while started.elapsed() < SETTLE_LIMIT {
        sleep(Duration::from_millis(250)).await;
        let now = server.rss_kib()?;
        if now.abs_diff(last) > last / 200 {
            stable_since = Instant::now();
        }
        last = now;
        if stable_since.elapsed() >= SETTLE {
            break;
        }
    }
    Ok(last)
}

/// Sends `size.events` messages at `size.rate` per second to the group and
/// waits until every member has them all (or nothing moves for [`STALL`]).
pub async fn fanout(
    contender: &Contender<'_>,
    members: &[&Client],
    group: &str,
    size: FanoutSize,
    run: u32,
    tally: &Tally,
    give_up: Instant,
) -> Result<Fanout> {
    let name = contender.name();
    let events = u32::try_from(size.events).map_err(|_| anyhow!("too many events"))?;
    if members.is_empty() {
        println!("{name}: no client joined, so no fan-out to measure");
        return Ok(Fanout {
            size: FanoutSize { members: 0, ..size },
            deliveries_per_second: f64::NAN,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            lost: 0,
            duplicated: 0,
            cpu_micros_per_delivery: f64::NAN,
            cores_busy: f64::NAN,
            client_cpu_micros_per_delivery: f64::NAN,
        });
    }
    let expected = members.len() as u64 * u64::from(events);
    tally.stamps.store(0, Ordering::Relaxed);
    let cpu_before = contender.server().cpu_micros()?;
    let client_cpu_before = proc_stats::cpu_micros(std::process::id())?;
    let first_send = marker::now_micros();
    let mut ticker = interval(Duration::from_secs_f64(1.0 / f64::from(size.rate.max(1))));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut calls = Vec::new();
    for index in 0..events {
        ticker.tick().await;
        if let Produced::Call(call) = contender.produce(group, run, index).await? {
            calls.push(call);
        }
    }
    for call in calls {
        call.await.context("producer task")??;
    }
    let mut progress = (0, Instant::now());
    loop {
        let got = tally.stamps.load(Ordering::Relaxed);
        if got >= expected || Instant::now() >= give_up {
            break;
        }
        if got != progress.0 {
            progress = (got, Instant::now());
        } else if progress.1.elapsed() >= STALL {
            break;
        }
        sleep(Duration::from_millis(10)).await;
    }
    let cpu = contender.server().cpu_micros()?.saturating_sub(cpu_before);
    let client_cpu = proc_stats::cpu_micros(std::process::id())?.saturating_sub(client_cpu_before);
    let wall = marker::now_micros().saturating_sub(first_send).max(1);
    let mut delivery = Delivery::default();
    for member in members {
        let arrivals = within("a member's report", STALL, member.report()).await?;
        delivery.add_member(&arrivals, run, events);
    }
    delivery.finish();
    let result = Fanout {
        // The clients that joined: the size the figures are for.
        size: FanoutSize {
            members: members.len(),
            ..size
        },
        deliveries_per_second: per_second(
            delivery.delivered,
            delivery.last_arrival.saturating_sub(first_send),
        ),
        p50_ms: quantile_ms(&delivery.latencies, 0.5),
        p99_ms: quantile_ms(&delivery.latencies, 0.99),
        lost: delivery.lost,
        duplicated: delivery.duplicated,
        cpu_micros_per_delivery: cpu as f64 / delivery.delivered.max(1) as f64,
        cores_busy: cpu as f64 / wall as f64,
        client_cpu_micros_per_delivery: client_cpu as f64 / delivery.delivered.max(1) as f64,
    };
    println!(
        "{name}: fan-out to {}: {:.0} deliveries/s, p50 {:.1} ms, p99 {:.1} ms, {:.2} µs CPU each, {} lost, {} duplicated",
        members.len(),
        result.deliveries_per_second,
        result.p50_ms,
        result.p99_ms,
        result.cpu_micros_per_delivery,
        result.lost,
        result.duplicated
    );
    Ok(result)
}
