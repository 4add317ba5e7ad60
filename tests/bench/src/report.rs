//! The one table a run prints (Markdown, so it goes into the README and the
//! results file as it is), with the ratio of Pulse to the peer.

use std::{fmt::Write as _, time::Duration};

use crate::{
    client::{Transport, Wire},
    commands::CommandPath,
    scenario::{Fanout, Race},
};

/// Pulse's small fan-out in another protocol or over another transport.
pub struct WireFanout {
    pub transport: Transport,
    pub wire: Wire,
    /// The suite's write delay in this run (zero: the default, writing at once).
    pub write_delay: Duration,
    pub fanout: Fanout,
}

struct Row {
    metric: String,
    pulse: String,
    peer: String,
    /// Pulse ÷ peer of the row's main figure.
    ratio: Option<f64>,
}

fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row(metric: String, pulse: f64, peer: f64, format: fn(f64) -> String) -> Row {
    let cell = |v: f64| {
        if v.is_finite() {
            format(v)
        } else {
            "n/a".into()
        }
    };
    Row {
        metric,
        pulse: cell(pulse),
        peer: cell(peer),
        ratio: Some(pulse / peer),
    }
}

fn rows(
    pulse: &Race,
    peer: &Race,
    commands: Option<&CommandPath>,
    others: &[WireFanout],
) -> Vec<Row> {
    let held = pulse.held.min(peer.held);
    let mut rows = vec![
        row(
            format!(
                "idle memory per WebSocket connection, {} held (KiB)",
                thousands(held as f64)
            ),
            pulse.idle_kib_per_connection,
            peer.idle_kib_per_connection,
            |v| format!("{v:.1}"),
        ),
        row(
            "connects per second".into(),
            pulse.connects_per_second,
            peer.connects_per_second,
            thousands,
        ),
        row(
            format!(
                "{} connections join one group (s)",
                thousands(pulse.joined as f64)
            ),
            pulse.join_time.as_secs_f64(),
            peer.join_time.as_secs_f64(),
            |v| format!("{v:.2}"),
        ),
    ];
    let failed = |race: &Race| {
        if race.join_failures == 0 {
            String::new()
        } else {
            format!(
                " ({} of {} failed)",
                thousands(race.join_failures as f64),
                thousands(race.joined as f64)
            )
        }
    };
    rows[2].pulse += &failed(pulse);
    rows[2].peer += &failed(peer);
    for (p, s) in pulse.fanouts.iter().zip(&peer.fanouts) {
        let what = format!(
            "fan-out to {} clients ({} events at {}/s)",
            thousands(p.size.members.max(s.size.members) as f64),
            p.size.events,
            p.size.rate
        );
        rows.extend(fanout_rows(&what, p, s));
    }
    if let Some(c) = commands {
        rows.push(Row {
            metric: format!(
                "`AddItem`/s, {} gRPC writers (peer column: pgbench, one-transaction minimum, {} clients)",
                c.writers, c.writers
            ),
            pulse: thousands(c.commands_per_second),
            peer: thousands(c.pgbench_tps),
            ratio: Some(c.commands_per_second / c.pgbench_tps),
        });
        rows.push(Row {
            metric: "… command ack p50 / p99 (ms) (peer column: pgbench mean latency)".into(),
            pulse: format!("{:.1} / {:.1}", c.ack_p50_ms, c.ack_p99_ms),
            peer: format!("{:.1}", c.pgbench_latency_ms),
            ratio: None,
        });
        rows.push(Row {
            metric: "… send→push p50 / p99 (ms), lost / duplicated".into(),
            pulse: format!(
                "{:.1} / {:.1}, {} / {}",
                c.push_p50_ms, c.push_p99_ms, c.lost, c.duplicated
            ),
            peer: "—".into(),
            ratio: None,
        });
        let o = &c.offered;
        rows.push(Row {
            metric: format!(
                "`AddItem` offered at {} /s (open loop, 80 % of the writers' rate): ack p50 / p99, send→push p50 / p99 (ms), lost / duplicated",
                thousands(f64::from(o.rate))
            ),
            pulse: format!(
                "{:.1} / {:.1}, {:.1} / {:.1}, {} / {}",
                o.ack_p50_ms, o.ack_p99_ms, o.push_p50_ms, o.push_p99_ms, o.lost, o.duplicated
            ),
            peer: "—".into(),
            ratio: None,
        });
        rows.push(Row {
            metric:
                "single-connection `AddItem`: round trip p50, send→push p50 (ms), lost / duplicated"
                    .into(),
            pulse: format!(
                "{:.2}, {:.2}, {} / {}",
                c.round_trip_p50_ms, c.lone_push_p50_ms, c.lone_lost, c.lone_duplicated
            ),
            peer: "—".into(),
            ratio: None,
        });
    }
    for other in others {
        let p = &other.fanout;
        // The peer's fan-out of the same size: it speaks only JSON over a
        // WebSocket here.
        if let Some(s) = peer
            .fanouts
            .iter()
            .find(|s| s.size.events == p.size.events && s.size.rate == p.size.rate)
        {
            let mut over = match other.transport {
                Transport::WebSockets => other.wire.to_string(),
                Transport::Http(transport) => format!("{transport} ({})", other.wire),
            };
            if !other.write_delay.is_zero() {
                over += &format!(
                    " with a {} ms write delay (`PULSE_WRITE_DELAY`)",
                    other.write_delay.as_millis()
                );
            }
            let what = format!(
                "fan-out to {} clients over {over} ({} events at {}/s; peer column: its JSON WebSocket fan-out of that size)",
                thousands(p.size.members as f64),
                p.size.events,
                p.size.rate
            );
            rows.extend(fanout_rows(&what, p, s));
        }
    }
    rows
}

/// Deliveries/s, latency, CPU per delivery and loss of one fan-out, Pulse's
/// `p` beside the peer's `s`.
fn fanout_rows(what: &str, p: &Fanout, s: &Fanout) -> Vec<Row> {
    let members = |f: &Fanout| {
        if f.size.members == s.size.members.max(p.size.members) {
            String::new()
        } else {
            format!(" (only {} joined)", thousands(f.size.members as f64))
        }
    };
    let mut deliveries = row(
        format!("{what}: deliveries/s"),
        p.deliveries_per_second,
        s.deliveries_per_second,
        thousands,
    );
    deliveries.pulse += &members(p);
    deliveries.peer += &members(s);
    vec![
        deliveries,
        Row {
            metric: format!("{what}: send→receive p50 / p99 (ms)"),
            pulse: format!("{:.1} / {:.1}", p.p50_ms, p.p99_ms),
            peer: format!("{:.1} / {:.1}", s.p50_ms, s.p99_ms),
            ratio: Some(p.p50_ms / s.p50_ms),
        },
        row(
            format!("{what}: server CPU per delivery (µs)"),
            p.cpu_micros_per_delivery,
            s.cpu_micros_per_delivery,
            |v| format!("{v:.2}"),
        ),
        row(
            format!("{what}: server CPU time ÷ wall time (cores)"),
            p.cores_busy,
            s.cores_busy,
            |v| format!("{v:.2}"),
        ),
        row(
            format!("{what}: load generator CPU per delivery (µs)"),
            p.client_cpu_micros_per_delivery,
            s.client_cpu_micros_per_delivery,
            |v| format!("{v:.2}"),
        ),
        Row {
            metric: format!("{what}: lost / duplicated"),
            pulse: format!("{} / {}", p.lost, p.duplicated),
            peer: format!("{} / {}", s.lost, s.duplicated),
            ratio: None,
        },
    ]
}

/// The Markdown table: metric, Pulse, socketioxide, Pulse ÷ socketioxide.
pub fn table(
    pulse: &Race,
    peer: &Race,
    commands: Option<&CommandPath>,
    others: &[WireFanout],
) -> String {
    let mut out =
        String::from("| | Pulse | socketioxide 0.18 | Pulse ÷ socketioxide |\n|---|--:|--:|--:|\n");
    for r in rows(pulse, peer, commands, others) {
        let ratio = r
            .ratio
            .filter(|x| x.is_finite())
            .map_or_else(|| "—".into(), |x| format!("{x:.2}×"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.metric, r.pulse, r.peer, ratio
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(604_321.4), "604,321");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(f64::NAN), "n/a");
    }
}
