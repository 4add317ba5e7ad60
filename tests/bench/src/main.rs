//! `cargo run --release -p pulse-bench -- [--quick]`: the release Pulse suite
//! and a socketioxide 0.18 peer, measured one after the other in the same
//! invocation by the same real WebSocket clients from this process, printed
//! as one table with the ratio of the two. Loopback only, bounded in count
//! and time, and every process it starts is stopped when it ends.

mod args;
mod client;
mod commands;
mod contender;
mod http_transport;
mod long_polling;
mod marker;
mod msgpack;
mod proc_stats;
mod report;
mod scenario;
mod servers;
mod sse;
mod stats;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use clap::Parser;

use crate::{
    args::{Args, Sizes},
    client::{Transport, Wire},
    contender::{Contender, DEFAULT_FRAME_BYTES},
    http_transport::HttpTransport,
    servers::{Peer, PulseSuite},
};

/// The most file descriptors the bench asks for (the machine's per-process rule).
const FD_CEILING: u64 = 20_000;
/// Descriptors kept for everything but client sockets (pools, pipes, files).
const FD_RESERVE: usize = 600;

/// The small fan-out again in Pulse's other protocols and transports, each
/// beside the peer's JSON WebSocket fan-out of that size.
const OTHER_WIRES: [(Transport, Wire); 3] = [
    (Transport::WebSockets, Wire::MessagePack),
    (Transport::Http(HttpTransport::ServerSentEvents), Wire::Json),
    (Transport::Http(HttpTransport::LongPolling), Wire::Json),
];

/// The workspace root: this crate lives in `tests/bench`.
fn workspace() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// Raises this process's open-files soft limit to the hard limit (at most
/// [`FD_CEILING`]); the servers inherit it. Returns how many clients fit.
fn fd_budget() -> Result<usize> {
    let limit = rlimit::increase_nofile_limit(FD_CEILING).context("raising RLIMIT_NOFILE")?;
    Ok(usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(FD_RESERVE))
}

fn machine() -> (usize, u64, String) {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| (kib + (1 << 19)) >> 20);
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    (cpus, mem_gib, load)
}

async fn run(args: &Args, sizes: &Sizes) -> Result<String> {
    let root = workspace();
    let logs = root.join("target/pulse-bench");
    std::fs::create_dir_all(&logs).context("creating target/pulse-bench")?;
    let pulse_bin = match &args.pulse_bin {
        Some(path) => path.clone(),
        None => servers::build_pulse(&root).await?,
    };
    let peer_bin =
        servers::build_peer(&root.join("tests/bench/peer-socketioxide/Cargo.toml")).await?;
    let give_up = Instant::now() + sizes.timeout.saturating_sub(Duration::from_secs(30));
    // reqwest's default pool keeps any number of idle connections per host:
    // each SSE or long-polling client holds one request open and reuses
    // another for its POSTs, so none reconnects per send.
    let http = reqwest::Client::new();

    let suite = PulseSuite::start(&pulse_bin, &logs, Duration::ZERO).await?;
    let outcome = async {
        let mut pulse = Contender::pulse(&suite).await?;
        let (race, crowd) = scenario::run(&mut pulse, sizes, &http, give_up).await?;
        let commands = commands::run(
            &mut pulse,
            &crowd,
            sizes.writers,
            sizes.command_time,
            sizes.round_trips,
        )
        .await?;
        crowd.close().await;
        let mut others = Vec::with_capacity(OTHER_WIRES.len());
        for (transport, wire) in OTHER_WIRES {
            let fanout = scenario::wire_fanout(
                &mut pulse,
                transport,
                wire,
                sizes.fanouts[0],
                &http,
                give_up,
            )
            .await?;
            others.push(report::WireFanout {
                transport,
                wire,
                write_delay: Duration::ZERO,
                fanout,
            });
        }
        Ok::<_, anyhow::Error>((race, commands, others))
    }
    .await;
    suite.server.stop().await;
    let (pulse_race, commands, mut others) = outcome?;
    for &delay in &sizes.write_delays {
        others.push(delayed_fanout(&pulse_bin, &logs, sizes, delay, &http, give_up).await?);
    }

    let peer = Peer::start(&peer_bin, &logs).await?;
    let frame_bytes = match pulse_race.frame_bytes {
        0 => DEFAULT_FRAME_BYTES,
        measured => measured,
    };
    let outcome = async {
        let mut contender = Contender::peer(&peer, &http, frame_bytes).await?;
        let (race, crowd) = scenario::run(&mut contender, sizes, &http, give_up).await?;
        crowd.close().await;
        if let Contender::Peer { producer, .. } = contender {
            producer.close().await;
        }
        Ok::<_, anyhow::Error>(race)
    }
    .await;
    peer.server.stop().await;
    let peer_race = outcome?;

    let mut notes = format!("Each message frame carries {frame_bytes} bytes on both servers. ");
    for (name, race) in [("Pulse", &pulse_race), ("socketioxide", &peer_race)] {
        if race.connect_failures + race.join_failures + race.client_failures > 0 {
            notes += &format!(
                "{name}: {} connects failed, {} joins failed, {} clients failed during the run. ",
                race.connect_failures, race.join_failures, race.client_failures
            );
        }
    }
    Ok(format!(
        "{}\n{notes}\n",
        report::table(&pulse_race, &peer_race, Some(&commands), &others)
    ))
}

/// The small JSON WebSocket fan-out on a suite of its own whose gateway waits
/// `write_delay` after the first frame of a write, so that frames arriving
/// meanwhile share the write.
async fn delayed_fanout(
    pulse_bin: &Path,
    logs: &Path,
    sizes: &Sizes,
    write_delay: Duration,
    http: &reqwest::Client,
    give_up: Instant,
) -> Result<report::WireFanout> {
    let (transport, wire) = (Transport::WebSockets, Wire::Json);
    let suite = PulseSuite::start(pulse_bin, logs, write_delay).await?;
    let fanout = async {
        let mut pulse = Contender::pulse(&suite).await?;
        scenario::wire_fanout(&mut pulse, transport, wire, sizes.fanouts[0], http, give_up).await
    }
    .await;
    suite.server.stop().await;
    Ok(report::WireFanout {
        transport,
        wire,
        write_delay,
        fanout: fanout?,
    })
}

fn write_results(args: &Args, sizes: &Sizes, table: &str, load_before: &str) -> Result<PathBuf> {
    let (cpus, mem_gib, _) = machine();
    let dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| workspace().join("tests/bench/results"));
    std::fs::create_dir_all(&dir).context("creating the results folder")?;
    let date = chrono::Utc::now();
    let kind = if sizes.quick { "-quick" } else { "" };
    let path = dir.join(format!(
        "{}-{cpus}cpu-{mem_gib}GB{kind}.md",
        date.format("%Y-%m-%d")
    ));
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let mut heading = String::from(if sizes.quick {
        "Quick (smoke) run: small sizes, not a measurement to compare against the issue's"
    } else {
        "Full run"
    });
    let busy = load_before
        .split_whitespace()
        .next()
        .and_then(|l| l.parse::<f64>().ok())
        .is_none_or(|load| load >= 1.0);
    if busy {
        heading += "; the machine was busy (load average 1 or more), so the figures are noisy";
    }
    let text = format!(
        "# pulse-bench, {} UTC\n\n{heading}.\n\n\
         Machine: {cpus} CPUs, {mem_gib} GiB; load average before the run: {load_before}.\n\
         Command: `cargo run --release -p pulse-bench -- {command}`\n\n\
         Sizes: {} connections held; {} join one group; fan-outs {:?}; {} writers for {:?}.\n\n{table}",
        date.format("%Y-%m-%d %H:%M"),
        sizes.connections,
        sizes.join,
        sizes.fanouts,
        sizes.writers,
        sizes.command_time,
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let budget = match fd_budget() {
        Ok(budget) => budget,
        Err(error) => {
            eprintln!("pulse-bench: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let sizes = Sizes::new(&args, budget);
    let (_, _, load_before) = machine();
    println!("pulse-bench: load average {load_before}; sizes {sizes:?}");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pulse-bench: runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        tokio::time::timeout(sizes.timeout, run(&args, &sizes))
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "the run did not finish within {:?}",
                    sizes.timeout
                ))
            })
    });
    // Whatever a failed run left running (clients, server handles) goes now.
    runtime.shutdown_timeout(Duration::from_secs(10));
    match outcome.and_then(|table| {
        println!("\n{table}");
        write_results(&args, &sizes, &table, &load_before)
    }) {
        Ok(path) => {
            println!("written to {}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("pulse-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
