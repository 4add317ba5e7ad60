//! The Prometheus text exposition format (0.0.4), written by hand like the
//! gateway's `/metrics`: the services' command and relay metrics are a few
//! counters and histograms, not worth a metrics framework.

use std::{
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
};

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the latency histograms: 1 ms to 10 s.
pub const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram over [`LATENCY_BUCKETS`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); past the last bound they
    /// count only in `count`.
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, seconds: f64) {
        if let Some(slot) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[slot] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The series of the histogram `name` with `labels` (`method="x"`, or
    /// empty): cumulative buckets, `+Inf`, sum and count.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let separator = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in LATENCY_BUCKETS.iter().zip(self.buckets) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// A [`Histogram`] observed without a lock, for hot paths (one observation per socket write):
/// a relaxed atomic per bucket, count and sum. A scrape may see an observation in `count`
/// before its bucket, which Prometheus tolerates.
#[derive(Debug, Default)]
pub struct AtomicHistogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    /// In microseconds: an integer sum needs no lock, and wraps only after 584,000 years.
    sum_micros: AtomicU64,
}

impl AtomicHistogram {
    pub fn observe_micros(&self, micros: u64) {
        let seconds = micros as f64 / 1e6;
        if let Some(slot) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// A copy to render.
    pub fn snapshot(&self) -> Histogram {
        Histogram {
            buckets: std::array::from_fn(|slot| self.buckets[slot].load(Ordering::Relaxed)),
            count: self.count(),
            sum: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// A metric with one unlabelled sample: its header and its value.
pub fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// What the process's exports lost: `pulse_spans_dropped_total` (see [`crate::dropped_spans`])
/// and `pulse_metric_exports_failed_total` (see [`crate::failed_metric_exports`]).
pub fn export_counters(out: &mut String, spans_dropped: u64, metric_exports_failed: u64) {
    single(
        out,
        "pulse_spans_dropped_total",
        "counter",
        "Finished spans dropped because the export queue was full (the collector is slow or down).",
        spans_dropped,
    );
    single(
        out,
        "pulse_metric_exports_failed_total",
        "counter",
        "OTLP metric exports dropped because the collector failed or did not answer in time.",
        metric_exports_failed,
    );
}

/// The `# HELP` and `# TYPE` lines of a metric.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_histogram_snapshots_as_the_histogram_of_the_same_observations() {
        let atomic = AtomicHistogram::default();
        let mut plain = Histogram::default();
        for micros in [500, 3_000, 3_000, 20_000_000] {
            atomic.observe_micros(micros);
            plain.observe(micros as f64 / 1e6);
        }
        let snapshot = atomic.snapshot();
        assert_eq!((snapshot.buckets, snapshot.count), (plain.buckets, 4));
        assert!((snapshot.sum - plain.sum).abs() < 1e-9, "{}", snapshot.sum);
    }

    #[test]
    fn a_histogram_renders_cumulative_buckets_sum_and_count() {
        let mut histogram = Histogram::default();
        for seconds in [0.0005, 0.003, 0.003, 20.0] {
            histogram.observe(seconds);
        }
        let mut out = String::new();
        histogram.render(&mut out, "x_seconds", "method=\"m\"");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "x_seconds_bucket{method=\"m\",le=\"0.001\"} 1");
        assert_eq!(lines[2], "x_seconds_bucket{method=\"m\",le=\"0.005\"} 3");
        assert_eq!(lines[12], "x_seconds_bucket{method=\"m\",le=\"10\"} 3");
        assert_eq!(lines[13], "x_seconds_bucket{method=\"m\",le=\"+Inf\"} 4");
        assert_eq!(lines[14], "x_seconds_sum{method=\"m\"} 20.0065");
        assert_eq!(lines[15], "x_seconds_count{method=\"m\"} 4");
        let mut bare = String::new();
        histogram.render(&mut bare, "y_seconds", "");
        assert!(
            bare.contains(
                "y_seconds_bucket{le=\"+Inf\"} 4\ny_seconds_sum 20.0065\ny_seconds_count 4\n"
            ),
            "{bare}"
        );
    }
}
