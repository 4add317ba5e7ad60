//! The whole path under concurrent load: gRPC `AddItem` → PostgreSQL
//! transaction with its outbox row → relay → JetStream → gateway node →
//! SignalR WebSocket clients. The shopping-list service and the gateway run
//! in this process on loopback (port 0), with a throw-away database and a bus
//! namespace of their own on the shared NATS.
//!
//! Lists get members (distinct users, each on one raw SignalR JSON WebSocket,
//! joined); writers send `AddItem` to random lists, each item stamped with its
//! send time. Every member checks that it receives every event of its list
//! exactly once and in sequence order — the run fails otherwise — and records
//! the latency from command send to its arrival.
//!
//! Baseline, measured in the same run: the same messages published straight
//! to JetStream (publish with ack, same number of writers) and read by one
//! subscriber per list, with no database and no gateway; and once more from
//! a single writer, which is how the outbox relay publishes (each message
//! acknowledged before the next), so that row is the relay's ceiling. Prints
//! all three and the ratio of the end-to-end figures to the baseline's.
//!
//! `cargo bench -p pulse-gateway --bench end_to_end` (sizes: E2E_LISTS,
//! E2E_CONNECTIONS, E2E_COMMANDS, E2E_WRITERS, E2E_DB_CONNECTIONS,
//! E2E_TIMEOUT_SECS). Under `cargo test --benches` it runs small, as a check.

mod bus_only;
mod harness;
mod member;
mod report;
mod suite;
mod through_gateway;

use std::time::{Duration, Instant};

use tokio::time::Instant as Deadline;

use crate::{
    bus_only::bus_only,
    harness::{Clock, Plan, Sizes},
    suite::Suite,
    through_gateway::end_to_end,
};

/// Time left for stopping and cleaning up when the run gives up waiting.
const CLEANUP_RESERVE: Duration = Duration::from_secs(15);

async fn run(sizes: &Sizes, started: Deadline) -> Result<(), String> {
    let give_up = started + sizes.timeout.saturating_sub(CLEANUP_RESERVE);
    let plan = Plan::new(sizes);
    let clock = Clock(Instant::now());
    let bus = bus_only(sizes, sizes.writers, &plan, clock, give_up).await?;
    // One publisher waiting for each ack, as the outbox relay publishes: its ceiling.
    let serial = bus_only(sizes, 1, &plan, clock, give_up).await?;
    let suite = Suite::start(sizes).await?;
    let e2e = end_to_end(&suite, sizes, &plan, clock, give_up).await;
    suite.stop().await;
    report::print(sizes, &bus, &serial, &e2e?);
    Ok(())
}

fn main() {
    let smoke = !std::env::args().any(|arg| arg == "--bench");
    if smoke {
        println!("end to end: smoke run (small sizes; `cargo bench` runs the full one)");
    }
    let sizes = Sizes::from_env(smoke);
    sizes.check_open_files();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        let deadline = Deadline::now();
        tokio::time::timeout(sizes.timeout, run(&sizes, deadline)).await
    });
    // Stops whatever a failed or timed-out run left running.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match outcome {
        Ok(Ok(())) => println!("  run took {:.1?}", started.elapsed()),
        Ok(Err(failure)) => panic!("end-to-end benchmark failed: {failure}"),
        Err(_) => panic!(
            "end-to-end benchmark did not finish within {:?} (E2E_TIMEOUT_SECS)",
            sizes.timeout
        ),
    }
}
