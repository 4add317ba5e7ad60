//! What every scenario shares: the sizes of a run, the plan of commands
//! both scenarios carry, the clock stamped into messages, the writers, and
//! the exactly-once check and figures every receiver reports into.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use pulse_bus::Namespace;
use rand::{rngs::StdRng, Rng, SeedableRng};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) struct Sizes {
    pub(crate) lists: usize,
    pub(crate) members: usize,
    pub(crate) commands: usize,
    pub(crate) writers: usize,
    pub(crate) db_connections: usize,
    pub(crate) timeout: Duration,
}

impl Sizes {
    /// `smoke`: run by `cargo test --benches` (no `--bench` argument), where
    /// only the correctness check matters and the defaults are small.
    pub(crate) fn from_env(smoke: bool) -> Self {
        let default = |full: usize, small: usize| if smoke { small } else { full };
        let lists = env("E2E_LISTS", default(50, 5)).max(1);
        Self {
            lists,
            members: (env("E2E_CONNECTIONS", default(1_000, 20)) / lists).max(1),
            commands: env("E2E_COMMANDS", default(2_000, 100)).max(1),
            writers: env("E2E_WRITERS", default(32, 4)).max(1),
            db_connections: env("E2E_DB_CONNECTIONS", 10).max(1),
            timeout: Duration::from_secs(env("E2E_TIMEOUT_SECS", 120) as u64),
        }
    }

    pub(crate) fn connections(&self) -> usize {
        self.lists * self.members
    }

    /// Both ends of every WebSocket are in this process; refuse to start
    /// rather than fail half-way on the open-files limit.
    pub(crate) fn check_open_files(&self) {
        let needed = self.connections() * 2 + self.writers + 200;
        let limit = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|limits| {
                let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
                line.split_whitespace().nth(3)?.parse::<usize>().ok()
            });
        if let Some(limit) = limit {
            assert!(
                needed < limit,
                "{} connections need ~{needed} open files (both ends are in this process); the limit is {limit}",
                self.connections()
            );
        }
    }
}

/// Which list, and which of its members as author, each command goes to;
/// drawn once from a fixed seed, so both runs carry the same load.
pub(crate) struct Plan {
    pub(crate) targets: Vec<(usize, usize)>,
    /// Per list, its command indices in ascending order.
    pub(crate) per_list: Vec<Vec<usize>>,
}

impl Plan {
    pub(crate) fn new(sizes: &Sizes) -> Self {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let mut per_list = vec![Vec::new(); sizes.lists];
        let targets = (0..sizes.commands)
            .map(|index| {
                let list = rng.random_range(0..sizes.lists);
                per_list[list].push(index);
                (list, rng.random_range(0..sizes.members))
            })
            .collect();
        Self { targets, per_list }
    }
}

/// Microseconds since the run began: send times travel inside the items, and
/// sender and receivers share this process, so one monotonic clock serves both.
#[derive(Clone, Copy)]
pub(crate) struct Clock(pub(crate) Instant);

impl Clock {
    pub(crate) fn now(self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// What one run measured (microseconds on the [`Clock`]).
pub(crate) struct Figures {
    pub(crate) first_send: u64,
    pub(crate) last_ack: u64,
    pub(crate) last_arrival: u64,
    pub(crate) acks: Vec<u64>,
    pub(crate) latencies: Vec<u64>,
}

impl Figures {
    pub(crate) fn acked_per_second(&self, commands: usize) -> f64 {
        per_second(commands, self.last_ack - self.first_send)
    }

    pub(crate) fn delivered_per_second(&self) -> f64 {
        per_second(self.latencies.len(), self.last_arrival - self.first_send)
    }
}

pub(crate) fn per_second(count: usize, micros: u64) -> f64 {
    count as f64 / (micros.max(1) as f64 / 1e6)
}

/// The `q` quantile (nearest rank) of sorted samples, in milliseconds.
pub(crate) fn quantile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e3
}

/// Sends every planned command from `senders.len()` concurrent writers, each
/// waiting for its acknowledgement before the next; returns the first send,
/// the last acknowledgement and every command's send-to-ack time.
pub(crate) async fn drive<S, F, Fut>(
    plan: &Plan,
    senders: Vec<S>,
    clock: Clock,
    send: F,
) -> Result<(u64, u64, Vec<u64>), String>
where
    S: Clone + Send + 'static,
    F: Fn(S, usize, (usize, usize), u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let targets = Arc::new(plan.targets.clone());
    let first_send = clock.now();
    let writers: Vec<_> = senders
        .into_iter()
        .map(|sender| {
            let (next, targets, send) = (next.clone(), targets.clone(), send.clone());
            tokio::spawn(async move {
                let (mut last_ack, mut acks) = (0, Vec::new());
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&target) = targets.get(index) else {
                        break;
                    };
                    let sent = clock.now();
                    send(sender.clone(), index, target, sent).await?;
                    last_ack = clock.now();
                    acks.push(last_ack - sent);
                }
                Ok::<_, String>((last_ack, acks))
            })
        })
        .collect();
    let (mut last_ack, mut acks) = (first_send, Vec::with_capacity(targets.len()));
    for writer in writers {
        let (last, mut times) = writer.await.map_err(|e| format!("writer: {e}"))??;
        last_ack = last_ack.max(last);
        acks.append(&mut times);
    }
    Ok((first_send, last_ack, acks))
}

/// What a receiver got: send-to-arrival times of the measured events.
pub(crate) struct Arrivals {
    pub(crate) latencies: Vec<u64>,
    pub(crate) last_arrival: u64,
}

pub(crate) fn command_index(name: &str) -> Option<usize> {
    name.strip_prefix("cmd-")?.parse().ok()
}

/// Exactly the planned commands, each once.
pub(crate) fn check_exactly_once(
    who: &str,
    mut received: Vec<usize>,
    expected: &[usize],
) -> Result<(), String> {
    received.sort_unstable();
    if received == expected {
        return Ok(());
    }
    let duplicate = received.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]);
    let missing = expected.iter().find(|i| received.binary_search(i).is_err());
    Err(format!(
        "{who}: {} events instead of {} (first duplicate {duplicate:?}, first missing {missing:?})",
        received.len(),
        expected.len()
    ))
}

/// The figures of a run once every receiver reported; fails naming the first
/// few receivers that did not get what they should have.
pub(crate) fn collect(
    first_send: u64,
    last_ack: u64,
    acks: Vec<u64>,
    outcomes: Vec<Result<Arrivals, String>>,
) -> Result<Figures, String> {
    let mut figures = Figures {
        first_send,
        last_ack,
        last_arrival: first_send,
        acks,
        latencies: Vec::new(),
    };
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(mut arrivals) => {
                figures.last_arrival = figures.last_arrival.max(arrivals.last_arrival);
                figures.latencies.append(&mut arrivals.latencies);
            }
            Err(failure) => failures.push(failure),
        }
    }
    if !failures.is_empty() {
        let shown: Vec<_> = failures.iter().take(5).cloned().collect();
        return Err(format!(
            "{} receivers failed: {}",
            failures.len(),
            shown.join("; ")
        ));
    }
    figures.acks.sort_unstable();
    figures.latencies.sort_unstable();
    Ok(figures)
}

/// Removes the run's streams from the shared NATS (best effort).
pub(crate) async fn delete_streams(namespace: &Namespace) {
    let Ok(client) = async_nats::connect(pulse_testkit::shared_nats_url()).await else {
        return;
    };
    let jetstream = async_nats::jetstream::new(client);
    let prefix = format!("{}_", namespace.as_str().to_ascii_uppercase());
    let names: Vec<String> = jetstream
        .stream_names()
        .filter_map(|name| async move { name.ok() })
        .filter(|name| std::future::ready(name.starts_with(&prefix)))
        .collect()
        .await;
    for name in names {
        let _ = jetstream.delete_stream(&name).await;
    }
}
