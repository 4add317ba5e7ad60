//! What a service's gRPC server counts: requests by method and status, and
//! their latency, rendered with the service's other metrics at `GET /metrics`
//! on the gRPC port (see `GrpcServer::serve`).

use std::{collections::BTreeMap, sync::Mutex, time::Duration};

use pulse_telemetry::prometheus::{header, Histogram};
use tonic::Code;

/// A method no service of this server has, or one past [`MAX_METHODS`]:
/// counted under one label, so arbitrary paths cannot grow the series without
/// bound (a served service's unknown method has a path of its own).
const OTHER_METHOD: &str = "other";
/// Methods counted by name at most.
const MAX_METHODS: usize = 256;

/// Requests by method: their statuses and latency. One lock per request
/// served, held for a map lookup.
#[derive(Debug, Default)]
pub struct CommandMetrics {
    methods: Mutex<BTreeMap<String, MethodStats>>,
}

#[derive(Debug, Default)]
struct MethodStats {
    statuses: BTreeMap<&'static str, u64>,
    latency: Histogram,
}

impl CommandMetrics {
    /// Counts a request to `method` (its path, `/package.Service/Method`)
    /// answered with `status` after `elapsed`. `served` names the services
    /// of the server; a path outside them counts as `other`.
    pub(crate) fn record(&self, served: &[&str], method: &str, status: Code, elapsed: Duration) {
        let known = method
            .strip_prefix('/')
            .and_then(|path| path.split_once('/'))
            .is_some_and(|(service, _)| served.contains(&service));
        let mut methods = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        let room = methods.len() < MAX_METHODS || methods.contains_key(method);
        let method = if known && room { method } else { OTHER_METHOD };
        let stats = match methods.get_mut(method) {
            Some(stats) => stats,
            None => methods.entry(method.to_owned()).or_default(),
        };
        *stats.statuses.entry(code_name(status)).or_default() += 1;
        stats.latency.observe(elapsed.as_secs_f64());
    }

    /// `pulse_commands_total` and `pulse_command_duration_seconds`.
    pub fn render(&self, out: &mut String) {
        let methods = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        header(
            out,
            "pulse_commands_total",
            "counter",
            "gRPC requests served, by method and status.",
        );
        for (method, stats) in methods.iter() {
            for (status, count) in &stats.statuses {
                out.push_str(&format!(
                    "pulse_commands_total{{method=\"{method}\",status=\"{status}\"}} {count}\n"
                ));
            }
        }
        header(
            out,
            "pulse_command_duration_seconds",
            "histogram",
            "Time from a gRPC request's arrival to its response, by method.",
        );
        for (method, stats) in methods.iter() {
            stats.latency.render(
                out,
                "pulse_command_duration_seconds",
                &format!("method=\"{method}\""),
            );
        }
    }
}

/// The status as gRPC names it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_by_method_and_status_and_unknown_paths_count_as_other() {
        let metrics = CommandMetrics::default();
        let served = ["pulse.lists.v1.ShoppingLists"];
        let add = "/pulse.lists.v1.ShoppingLists/AddItem";
        metrics.record(&served, add, Code::Ok, Duration::from_millis(2));
        metrics.record(&served, add, Code::Ok, Duration::from_millis(3));
        metrics.record(&served, add, Code::NotFound, Duration::from_millis(1));
        metrics.record(
            &served,
            "/evil.Service/Anything",
            Code::Unimplemented,
            Duration::ZERO,
        );
        let mut out = String::new();
        metrics.render(&mut out);
        for line in [
            "pulse_commands_total{method=\"/pulse.lists.v1.ShoppingLists/AddItem\",status=\"NOT_FOUND\"} 1",
            "pulse_commands_total{method=\"/pulse.lists.v1.ShoppingLists/AddItem\",status=\"OK\"} 2",
            "pulse_commands_total{method=\"other\",status=\"UNIMPLEMENTED\"} 1",
            "pulse_command_duration_seconds_count{method=\"/pulse.lists.v1.ShoppingLists/AddItem\"} 3",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in:\n{out}");
        }
    }
}
