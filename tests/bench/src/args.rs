//! What one invocation measures: the command line, and the sizes it implies
//! (`--quick` for a smoke run, the sizes otherwise).

use std::{path::PathBuf, time::Duration};

use clap::Parser;

/// The most connections held per server: each is a file descriptor in the
/// bench and in the server, and no process may hold more than 20,000 (the
/// rest is headroom for pools, pipes and files).
pub const MAX_CONNECTIONS: usize = 19_000;

#[derive(Parser, Debug)]
#[command(
    about = "Pulse (release suite) side by side with socketioxide 0.18: memory, connects, joins, fan-out, command path"
)]
pub struct Args {
    /// Small sizes (500 connections, short runs): a smoke run of the whole tool.
    #[arg(long)]
    pub quick: bool,
    /// The release `pulse` binary; built with `cargo build --release -p pulse` when absent.
    #[arg(long)]
    pub pulse_bin: Option<PathBuf>,
    /// WebSocket connections held at once per server (at most 19,000).
    #[arg(long)]
    pub connections: Option<usize>,
    /// Connections that join one group together (the timed mass join, then the large fan-out).
    #[arg(long)]
    pub join: Option<usize>,
    /// Members of the small fan-out group.
    #[arg(long)]
    pub small_group: Option<usize>,
    /// Connections being opened at once while connecting.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Joins in flight at once in the timed mass join (0: all at once, as
    /// clients that all open a page together would).
    #[arg(long, default_value_t = 0)]
    pub join_concurrency: usize,
    /// Concurrent gRPC writers (and pgbench clients) on the command path.
    #[arg(long, default_value_t = 32)]
    pub writers: usize,
    /// Seconds the command path (and pgbench) runs.
    #[arg(long)]
    pub command_secs: Option<u64>,
    /// The small fan-out once more for each of these write delays
    /// (`PULSE_WRITE_DELAY`, in milliseconds, comma-separated), each on a suite
    /// of its own; 0 alone skips those runs.
    #[arg(long, value_delimiter = ',', default_values_t = [20, 50])]
    pub write_delay_ms: Vec<u64>,
    /// Hard limit on the whole run, in seconds; it stops (and cleans up) when reached.
    #[arg(long)]
    pub timeout_secs: Option<u64>,
    /// Where the results file goes.
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
}

/// One fan-out: `events` messages sent at `rate` per second to a group of `members`.
#[derive(Debug, Clone, Copy)]
pub struct FanoutSize {
    pub members: usize,
    pub events: usize,
    pub rate: u32,
}

#[derive(Debug, Clone)]
pub struct Sizes {
    pub quick: bool,
    pub connections: usize,
    pub join: usize,
    pub fanouts: [FanoutSize; 2],
    pub connect_concurrency: usize,
    /// `None`: every join at once.
    pub join_concurrency: Option<usize>,
    pub writers: usize,
    pub command_time: Duration,
    /// Sequential `AddItem`s timed for the single-connection round trip.
    pub round_trips: usize,
    /// The write delays of the extra small fan-outs (none zero).
    pub write_delays: Vec<Duration>,
    pub timeout: Duration,
}

impl Sizes {
    /// The sizes of a run, each bounded by `fd_budget` (what this process may open).
    pub fn new(args: &Args, fd_budget: usize) -> Self {
        let pick = |given: Option<usize>, full: usize, quick: usize| {
            given.unwrap_or(if args.quick { quick } else { full })
        };
        let connections = pick(args.connections, MAX_CONNECTIONS, 500)
            .min(MAX_CONNECTIONS)
            .min(fd_budget)
            .max(2);
        let join = pick(args.join, 10_000, 500).clamp(1, connections);
        let small = pick(args.small_group, 1_000, 100).clamp(1, connections);
        let (events, rate) = if args.quick { (50, 100) } else { (200, 100) };
        let small_events = if args.quick { 50 } else { 400 };
        Self {
            quick: args.quick,
            connections,
            join,
            fanouts: [
                FanoutSize {
                    members: small,
                    events: small_events,
                    rate: 200,
                },
                FanoutSize {
                    members: join,
                    events,
                    rate,
                },
            ],
            connect_concurrency: args.connect_concurrency.max(1),
            join_concurrency: (args.join_concurrency > 0).then_some(args.join_concurrency),
            writers: args.writers.max(1),
            command_time: Duration::from_secs(
                args.command_secs
                    .unwrap_or(if args.quick { 3 } else { 10 })
                    .max(1),
            ),
            round_trips: if args.quick { 50 } else { 300 },
            write_delays: args
                .write_delay_ms
                .iter()
                .filter(|&&ms| ms > 0)
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
            timeout: Duration::from_secs(args.timeout_secs.unwrap_or(if args.quick {
                300
            } else {
                1_500
            })),
        }
    }
}
