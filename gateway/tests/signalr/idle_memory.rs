//! What an idle WebSocket connection costs the gateway on the heap: the budget that keeps the
//! per-connection memory (the benchmark's first row) from regrowing unnoticed.
//!
//! The gateway runs on a runtime of its own whose threads are counted (see
//! [`crate::allocations`]); the clients run on another. Figures are heap bytes as requested and
//! blocks; the allocator's own overhead per block comes on top in the process, which is why the
//! number of blocks has a budget too.

use std::time::{Duration, Instant};

use pulse_testkit::poll_until;
use tokio::runtime::Runtime;

use crate::{
    allocations::{self, Held},
    helpers::{RawClient, TestSuite, User},
};

/// Connected before counting, so what grows once (pools, the first pages of tables) is there.
const WARM_UP: usize = 20;
/// Connections counted: enough that tables growing in steps (the registry's) average out.
const CONNECTIONS: usize = 200;
/// Heap bytes per idle connection. Measured (release build): 9,499 with tokio's `mpsc` channel
/// for the input, a token copy and an acknowledgement timer held for the connection's life, and a
/// never-revoked token per user connection; 7,640 without them (debug build: 7,600).
const BUDGET_BYTES: isize = 8_000;
/// Heap blocks per idle connection (each costs the allocator's overhead on top). Measured: 34
/// before, 30 after (debug build: 31).
const BUDGET_BLOCKS: isize = 32;
/// Unchanged this long, the gateway is done with the connections it accepted.
const QUIET: Duration = Duration::from_millis(300);
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// What the gateway holds once it stopped allocating and freeing. Awaited on the gateway's
/// runtime from this thread, which is not tracked and runs none of the runtime's tasks, so the
/// looking is not counted.
fn settled(server: &Runtime) -> Held {
    let mut last = allocations::held();
    let mut quiet_since = Instant::now();
    server.block_on(poll_until(
        "the gateway's heap settled",
        SETTLE_LIMIT,
        async || {
            let now = allocations::held();
            if now != last {
                last = now;
                quiet_since = Instant::now();
                return None;
            }
            (quiet_since.elapsed() >= QUIET).then_some(now)
        },
    ))
}

#[test]
fn an_idle_websocket_connection_stays_within_its_memory_budget() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .on_thread_start(allocations::track_this_thread)
        .build()
        .expect("server runtime");
    let clients = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let suite = server.block_on(TestSuite::start());
    let tokens: Vec<String> = (0..WARM_UP + CONNECTIONS)
        .map(|index| suite.token(&User::new(&format!("Idle {index}"))))
        .collect();
    let connect = |tokens: &[String]| {
        clients.block_on(async {
            let mut connected = Vec::with_capacity(tokens.len());
            for token in tokens {
                connected.push(RawClient::connect(&suite, token).await);
            }
            connected
        })
    };
    let warm = connect(&tokens[..WARM_UP]);
    let before = settled(&server);
    let idle = connect(&tokens[WARM_UP..]);
    let after = settled(&server);

    let count = CONNECTIONS as isize;
    let bytes = (after.bytes - before.bytes) / count;
    let blocks = (after.blocks - before.blocks) / count;
    eprintln!("an idle WebSocket connection holds {bytes} bytes in {blocks} heap blocks");
    assert!(
        bytes <= BUDGET_BYTES,
        "{bytes} bytes per idle connection, over the budget of {BUDGET_BYTES}"
    );
    assert!(
        blocks <= BUDGET_BLOCKS,
        "{blocks} heap blocks per idle connection, over the budget of {BUDGET_BLOCKS}"
    );
    drop((warm, idle));
    server.block_on(suite.stop());
}
