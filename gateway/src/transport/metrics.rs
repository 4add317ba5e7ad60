//! `GET /metrics`: the gateway's state in the Prometheus text exposition format (0.0.4).
//!
//! The layers below expose numbers (the session registry its open connections, the node its
//! groups, members, queued bytes and counters, the gRPC service its open streams); this renders
//! them. Like `/health`, the endpoint needs no credential: it holds counts only, never an id, a
//! user or a group name. Keep it off the public internet all the same if the counts are not for
//! everyone.

use std::{fmt::Write as _, sync::Arc};

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use pulse_telemetry::{prometheus::export_counters, MetricsSource};

use super::AppState;
use crate::{hub::HubKind, node::NodeMetrics, protocol::TransportType};

/// The content type Prometheus expects for the text format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every transport, in the order negotiate offers them.
const TRANSPORTS: [TransportType; 3] = [
    TransportType::WebSockets,
    TransportType::ServerSentEvents,
    TransportType::LongPolling,
];

/// One reading of everything the endpoint shows.
#[derive(Debug, Default)]
struct Reading {
    /// Open SignalR connections per hub and transport (absent pairs count zero).
    connections: Vec<(HubKind, TransportType, usize)>,
    node: NodeMetrics,
    grpc_streams: usize,
    /// Finished spans the export queue had no room for (the process's).
    spans_dropped: u64,
    /// Metric exports that failed (the process's).
    metric_exports_failed: u64,
}

pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text(&state)).into_response()
}

/// What `GET /metrics` shows, for the OTLP metric exporter to send (see
/// [`pulse_telemetry::export_metrics`]).
pub(crate) fn source(state: AppState) -> MetricsSource {
    Arc::new(move || {
        let text = text(&state);
        Box::pin(async move { text })
    })
}

fn text(state: &AppState) -> String {
    let reading = Reading {
        connections: state.registry.open_connections(),
        node: state.services.node.metrics(),
        grpc_streams: state.grpc_streams.get(),
        spans_dropped: pulse_telemetry::dropped_spans(),
        metric_exports_failed: pulse_telemetry::failed_metric_exports(),
    };
    let mut text = render(&reading);
    state.services.node.render_push_latency(&mut text);
    state.session_metrics.render(&mut text);
    state.forwarding.render_metrics(&mut text);
    text
}

fn render(reading: &Reading) -> String {
    let mut out = String::with_capacity(4096);
    header(
        &mut out,
        "pulse_gateway_connections",
        "gauge",
        "SignalR connections open, per hub and transport.",
    );
    // Every pair, zeros included, so a series falls to 0 instead of vanishing.
    for hub in HubKind::ALL {
        for transport in TRANSPORTS {
            let open: usize = reading
                .connections
                .iter()
                .filter(|(h, t, _)| *h == hub && *t == transport)
                .map(|(_, _, count)| count)
                .sum();
            let _ = writeln!(
                out,
                "pulse_gateway_connections{{hub=\"{}\",transport=\"{}\"}} {open}",
                hub.name(),
                transport_label(transport)
            );
        }
    }
    let node = &reading.node;
    let metrics: [(&str, &str, &str, u64); 6] = [
        (
            "pulse_gateway_grpc_streams",
            "gauge",
            "gRPC subscriptions open.",
            count(reading.grpc_streams),
        ),
        (
            "pulse_gateway_groups",
            "gauge",
            "Groups with a bus subscription on this gateway.",
            count(node.groups),
        ),
        (
            "pulse_gateway_group_members",
            "gauge",
            "Group memberships of connections and streams (one per connection per group).",
            count(node.members),
        ),
        (
            "pulse_gateway_outbound_queued_bytes",
            "gauge",
            "Bytes waiting in the outbound queues of group members.",
            count(node.queued_bytes),
        ),
        (
            "pulse_gateway_events_delivered_total",
            "counter",
            "Frames the fan-out queued to group members.",
            node.events_delivered,
        ),
        (
            "pulse_gateway_slow_consumer_closes_total",
            "counter",
            "Connections and streams closed because their outbound queue overflowed.",
            node.slow_consumer_closes,
        ),
    ];
    for (name, kind, help, value) in metrics {
        header(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
    export_counters(
        &mut out,
        reading.spans_dropped,
        reading.metric_exports_failed,
    );
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn count(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// The transport names negotiate uses.
fn transport_label(transport: TransportType) -> &'static str {
    match transport {
        TransportType::WebSockets => "WebSockets",
        TransportType::ServerSentEvents => "ServerSentEvents",
        TransportType::LongPolling => "LongPolling",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{navigation, shopping_list};

    #[test]
    fn a_known_state_renders_as_exact_exposition_text() {
        let reading = Reading {
            connections: vec![
                (shopping_list::HUB, TransportType::WebSockets, 3),
                (shopping_list::HUB, TransportType::LongPolling, 1),
                (navigation::HUB, TransportType::ServerSentEvents, 2),
            ],
            node: NodeMetrics {
                groups: 2,
                members: 5,
                queued_bytes: 1234,
                events_delivered: 42,
                slow_consumer_closes: 1,
            },
            grpc_streams: 4,
            spans_dropped: 7,
            metric_exports_failed: 3,
        };
        let expected = "\
# HELP pulse_gateway_connections SignalR connections open, per hub and transport.
# TYPE pulse_gateway_connections gauge
pulse_gateway_connections{hub=\"shopping-list\",transport=\"WebSockets\"} 3
pulse_gateway_connections{hub=\"shopping-list\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"shopping-list\",transport=\"LongPolling\"} 1
pulse_gateway_connections{hub=\"lean-session\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"lean-session\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"lean-session\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"chat\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"chat\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"chat\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"goals\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"goals\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"goals\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"notifications\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"notifications\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"notifications\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"video-generation\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"video-generation\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"video-generation\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"image-generation\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"image-generation\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"image-generation\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"tasks\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"tasks\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"tasks\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"spend-notifications\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"spend-notifications\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"spend-notifications\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"webhooks\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"webhooks\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"webhooks\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"admin-notifications\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"admin-notifications\",transport=\"ServerSentEvents\"} 0
pulse_gateway_connections{hub=\"admin-notifications\",transport=\"LongPolling\"} 0
pulse_gateway_connections{hub=\"navigation-state\",transport=\"WebSockets\"} 0
pulse_gateway_connections{hub=\"navigation-state\",transport=\"ServerSentEvents\"} 2
pulse_gateway_connections{hub=\"navigation-state\",transport=\"LongPolling\"} 0
# HELP pulse_gateway_grpc_streams gRPC subscriptions open.
# TYPE pulse_gateway_grpc_streams gauge
pulse_gateway_grpc_streams 4
# HELP pulse_gateway_groups Groups with a bus subscription on this gateway.
# TYPE pulse_gateway_groups gauge
pulse_gateway_groups 2
# HELP pulse_gateway_group_members Group memberships of connections and streams (one per connection per group).
# TYPE pulse_gateway_group_members gauge
pulse_gateway_group_members 5
# HELP pulse_gateway_outbound_queued_bytes Bytes waiting in the outbound queues of group members.
# TYPE pulse_gateway_outbound_queued_bytes gauge
pulse_gateway_outbound_queued_bytes 1234
# HELP pulse_gateway_events_delivered_total Frames the fan-out queued to group members.
# TYPE pulse_gateway_events_delivered_total counter
pulse_gateway_events_delivered_total 42
# HELP pulse_gateway_slow_consumer_closes_total Connections and streams closed because their outbound queue overflowed.
# TYPE pulse_gateway_slow_consumer_closes_total counter
pulse_gateway_slow_consumer_closes_total 1
# HELP pulse_spans_dropped_total Finished spans dropped because the export queue was full (the collector is slow or down).
# TYPE pulse_spans_dropped_total counter
pulse_spans_dropped_total 7
# HELP pulse_metric_exports_failed_total OTLP metric exports dropped because the collector failed or did not answer in time.
# TYPE pulse_metric_exports_failed_total counter
pulse_metric_exports_failed_total 3
";
        assert_eq!(render(&reading), expected);
    }

    #[test]
    fn a_fresh_gateway_shows_every_series_at_zero() {
        let text = render(&Reading::default());
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(samples.len(), HubKind::ALL.len() * TRANSPORTS.len() + 8);
        assert!(samples.iter().all(|l| l.ends_with(" 0")), "{text}");
        // The format ends every line, the last one included.
        assert!(text.ends_with('\n'));
    }
}
