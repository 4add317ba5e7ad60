//! What sessions count for operators, rendered at `GET /metrics`: hub invocations by hub, method
//! and outcome, handshakes refused by reason, and stateful reconnects. Each count takes one
//! short lock (or an atomic) per invocation or handshake, never per frame.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use pulse_telemetry::prometheus::{header, single};

use crate::{hub::HubError, protocol::HandshakeError};

/// Invocation series at most before new method names count as [`OTHER_METHOD`].
const MAX_INVOCATION_SERIES: usize = 1024;
const OTHER_METHOD: &str = "other";

#[derive(Debug, Default)]
pub struct SessionMetrics {
    /// By (hub, method, outcome). An unknown method is counted as `unknown`, and past
    /// [`MAX_INVOCATION_SERIES`] new names as `other`, so clients cannot grow the series.
    invocations: Mutex<BTreeMap<(&'static str, String, &'static str), u64>>,
    handshake_failures: Mutex<BTreeMap<&'static str, u64>>,
    reconnects: AtomicU64,
}

impl SessionMetrics {
    /// Counts an invocation of `method` on `hub` that ended with `outcome`.
    pub(crate) fn invoked(&self, hub: &'static str, method: &str, outcome: Result<(), &HubError>) {
        let outcome = outcome_label(outcome);
        let method = if outcome == "unknown_method" {
            "unknown"
        } else {
            method
        };
        let mut invocations = self.invocations.lock().unwrap_or_else(|p| p.into_inner());
        let key = (hub, method.to_owned(), outcome);
        // Method names match case-insensitively, and a rate-limited call is refused before its
        // name is looked up: past a bound, further names share one series.
        let key = if invocations.len() >= MAX_INVOCATION_SERIES && !invocations.contains_key(&key) {
            (hub, OTHER_METHOD.to_owned(), outcome)
        } else {
            key
        };
        *invocations.entry(key).or_default() += 1;
    }

    pub(crate) fn handshake_failed(&self, error: &HandshakeError) {
        let mut failures = self
            .handshake_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *failures.entry(error.reason()).or_default() += 1;
    }

    /// A dropped WebSocket was replaced by a new one (stateful reconnect).
    pub(crate) fn reconnected(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, out: &mut String) {
        header(
            out,
            "pulse_gateway_invocations_total",
            "counter",
            "Hub invocations, by hub, method and outcome.",
        );
        for ((hub, method, outcome), count) in self
            .invocations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "pulse_gateway_invocations_total{{hub=\"{hub}\",method=\"{method}\",outcome=\"{outcome}\"}} {count}"
            );
        }
        header(
            out,
            "pulse_gateway_handshake_failures_total",
            "counter",
            "SignalR handshakes refused, by reason.",
        );
        for (reason, count) in self
            .handshake_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "pulse_gateway_handshake_failures_total{{reason=\"{reason}\"}} {count}"
            );
        }
        single(
            out,
            "pulse_gateway_reconnects_total",
            "counter",
            "WebSockets that replaced a dropped one of a stateful-reconnect connection.",
            self.reconnects.load(Ordering::Relaxed),
        );
    }
}

fn outcome_label(outcome: Result<(), &HubError>) -> &'static str {
    match outcome {
        Ok(()) => "ok",
        Err(HubError::UnknownMethod) => "unknown_method",
        Err(HubError::BadArguments(_)) => "bad_arguments",
        Err(HubError::Refused(_)) => "refused",
        Err(HubError::Denied(_)) => "denied",
        Err(HubError::CredentialRevoked(_)) => "credential_revoked",
        Err(HubError::Unavailable(_)) => "unavailable",
        Err(HubError::Internal(_)) => "internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_count_by_outcome_and_unknown_or_excess_method_names_share_a_series() {
        let metrics = SessionMetrics::default();
        metrics.invoked("shopping-list", "AddItem", Ok(()));
        metrics.invoked("shopping-list", "AddItem", Ok(()));
        metrics.invoked(
            "shopping-list",
            "AddItem",
            Err(&HubError::Denied("no".into())),
        );
        metrics.invoked("shopping-list", "Whatever1", Err(&HubError::UnknownMethod));
        metrics.invoked("shopping-list", "Whatever2", Err(&HubError::UnknownMethod));
        metrics.handshake_failed(&HandshakeError::TimedOut);
        metrics.reconnected();
        // Three series exist already: 1,021 new names fill the bound, the last five share one.
        for n in 0..MAX_INVOCATION_SERIES + 2 {
            metrics.invoked(
                "chat",
                &format!("m{n}"),
                Err(&HubError::Refused("slow".into())),
            );
        }
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(
            out.lines()
                .any(|l| l == "pulse_gateway_invocations_total{hub=\"chat\",method=\"other\",outcome=\"refused\"} 5"),
            "names past the bound share one series:\n{out}"
        );
        for line in [
            "pulse_gateway_invocations_total{hub=\"shopping-list\",method=\"AddItem\",outcome=\"denied\"} 1",
            "pulse_gateway_invocations_total{hub=\"shopping-list\",method=\"AddItem\",outcome=\"ok\"} 2",
            "pulse_gateway_invocations_total{hub=\"shopping-list\",method=\"unknown\",outcome=\"unknown_method\"} 2",
            "pulse_gateway_handshake_failures_total{reason=\"timed_out\"} 1",
            "pulse_gateway_reconnects_total 1",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in:\n{out}");
        }
    }
}
