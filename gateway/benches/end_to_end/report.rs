//! The table a run prints.

use crate::{
    harness::{per_second, quantile, Figures, Sizes},
    through_gateway::EndToEnd,
};

pub(crate) fn print(sizes: &Sizes, bus: &Figures, serial: &Figures, e2e: &EndToEnd) {
    let n = sizes.commands;
    let row = |name: &str, f: &Figures| {
        println!(
            "  {name:<20} {:>9.0} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            f.acked_per_second(n),
            f.delivered_per_second(),
            quantile(&f.acks, 0.5),
            quantile(&f.latencies, 0.5),
            quantile(&f.latencies, 0.9),
            quantile(&f.latencies, 0.99),
            quantile(&f.latencies, 1.0),
        );
    };
    let e = &e2e.figures;
    println!(
        "end to end: {} lists x {} members = {} SignalR WebSocket connections; {n} AddItem from {} writers = {} deliveries; db pool {}",
        sizes.lists,
        sizes.members,
        sizes.connections(),
        sizes.writers,
        e.latencies.len(),
        sizes.db_connections,
    );
    println!(
        "  set-up (lists, shares, negotiate + connect + JoinList): {:.2?}",
        e2e.setup
    );
    println!(
        "  {:<20} {:>9} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "send -> arrival:",
        "acked/s",
        "delivered/s",
        "ack p50",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms"
    );
    row("bus only (baseline)", bus);
    row("bus only, 1 writer", serial);
    row("end to end", e);
    let r = &e2e.relayed;
    println!(
        "  {:<20} {:>9} {:>12} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        "  of which to NATS",
        "",
        "",
        "",
        quantile(&r.latencies, 0.5),
        quantile(&r.latencies, 0.9),
        quantile(&r.latencies, 0.99),
        quantile(&r.latencies, 1.0),
    );
    println!(
        "  ratio end-to-end/bus: p50 latency {:.2}x, p99 latency {:.2}x, acked/s {:.2}x, messages delivered/s {:.2}x",
        quantile(&e.latencies, 0.5) / quantile(&bus.latencies, 0.5),
        quantile(&e.latencies, 0.99) / quantile(&bus.latencies, 0.99),
        e.acked_per_second(n) / bus.acked_per_second(n),
        per_second(n, e.last_arrival - e.first_send) / per_second(n, bus.last_arrival - bus.first_send),
    );
    println!(
        "  checked: each of {} members got each of its list's events exactly once, in sequence order",
        sizes.connections()
    );
}
