//! What forwarding counts for operators, rendered at `GET /metrics`: the requests this gateway
//! sent to others by what they asked and how they ended, and those it served for others. One
//! relaxed atomic per forwarded request.

use std::{
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
};

use pulse_telemetry::prometheus::header;

use super::Ask;

/// The label of each ask, by its index.
const ASKS: [&str; 4] = ["poll", "send", "delete", "claim"];
/// How a request sent to another gateway ended, by its index.
const OUTCOMES: [&str; 3] = ["answered", "no_responder", "failed"];

/// How a request sent to another gateway ended.
#[derive(Debug, Clone, Copy)]
pub(super) enum Outcome {
    Answered = 0,
    /// Nobody served the name asked (the connection or its issuer is gone).
    NoResponder = 1,
    /// No answer in time, or the request could not be sent.
    Failed = 2,
}

impl Ask {
    /// What it asks, as its label reads.
    pub(super) fn label(&self) -> &'static str {
        ASKS[self.index()]
    }

    fn index(&self) -> usize {
        match self {
            Ask::Poll { .. } => 0,
            Ask::Send(_) => 1,
            Ask::Delete => 2,
            Ask::Claim(_) => 3,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct ForwardingMetrics {
    sent: [[AtomicU64; OUTCOMES.len()]; ASKS.len()],
    served: [AtomicU64; ASKS.len()],
}

impl ForwardingMetrics {
    pub fn sent(&self, ask: &Ask, outcome: Outcome) {
        self.sent[ask.index()][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn served(&self, ask: &Ask) {
        self.served[ask.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, out: &mut String) {
        let sent = "pulse_gateway_forwarded_requests_total";
        header(
            out,
            sent,
            "counter",
            "Requests for connections held by other gateways, sent to them over the bus, by ask and outcome.",
        );
        for (ask, outcomes) in ASKS.iter().zip(&self.sent) {
            for (outcome, count) in OUTCOMES.iter().zip(outcomes) {
                let count = count.load(Ordering::Relaxed);
                let _ = writeln!(out, "{sent}{{ask=\"{ask}\",outcome=\"{outcome}\"}} {count}");
            }
        }
        let served = "pulse_gateway_forwarded_requests_served_total";
        header(
            out,
            served,
            "counter",
            "Requests other gateways sent here for connections this gateway issued or holds, by ask.",
        );
        for (ask, count) in ASKS.iter().zip(&self.served) {
            let count = count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{served}{{ask=\"{ask}\"}} {count}");
        }
    }
}
