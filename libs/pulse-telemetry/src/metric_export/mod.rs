//! Periodic OTLP/gRPC export of the metrics each process serves at `/metrics`.
//!
//! The Prometheus text a `/metrics` endpoint renders is the one source: every interval the
//! exporter renders each registered source, reads the text back into families
//! ([`exposition`]) and sends them as OTLP metrics ([`otlp`]), one scope per source, under the
//! resource the spans carry. No second set of counters exists to drift from the first.
//!
//! The SDK's own pipeline is not used: its instruments would be that second set, and its
//! exporter takes only the SDK's aggregated data, which cannot be built from outside. The
//! request goes out with `opentelemetry-proto`'s tonic client, the one the OTLP exporter uses.
//!
//! A collector that is down costs nothing but the attempt: exports run one after the other on
//! one task (never two in flight), each bounded by the export timeout; a failed export is
//! dropped, not retried or queued, and counted ([`failed_metric_exports`]).

mod exporter;
mod exposition;
mod otlp;

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, Weak,
    },
    time::Duration,
};

use tracing_subscriber::Layer;

pub(crate) use exporter::MetricExporter;

/// Renders a process's metrics in the Prometheus text format (what its `/metrics` serves).
pub type MetricsSource =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = String> + Send>> + Send + Sync>;

/// How often and how patiently metrics are exported (`OTEL_METRIC_EXPORT_INTERVAL`,
/// `OTEL_METRIC_EXPORT_TIMEOUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSchedule {
    pub interval: Duration,
    /// Longest one export (rendering included) may take; past it the export is dropped.
    pub timeout: Duration,
}

impl Default for MetricSchedule {
    /// The OpenTelemetry defaults: every 60 s, 30 s at most each.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Metric exports dropped because the collector failed or did not answer in time, by every
/// exporter of the process.
static FAILED: AtomicU64 = AtomicU64::new(0);

/// How many metric exports failed (each one dropped).
pub fn failed_metric_exports() -> u64 {
    FAILED.load(Ordering::Relaxed)
}

/// The sources an exporter renders, each under its scope name.
#[derive(Default)]
pub(crate) struct Sources {
    next_id: AtomicU64,
    entries: Mutex<Vec<(u64, &'static str, MetricsSource)>>,
}

impl Sources {
    fn entries(&self) -> MutexGuard<'_, Vec<(u64, &'static str, MetricsSource)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sources now, copied so none is rendered under the lock.
    pub(crate) fn snapshot(&self) -> Vec<(&'static str, MetricsSource)> {
        self.entries()
            .iter()
            .map(|(_, scope, source)| (*scope, source.clone()))
            .collect()
    }
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scopes: Vec<&str> = self.entries().iter().map(|(_, scope, _)| *scope).collect();
        f.debug_struct("Sources").field("scopes", &scopes).finish()
    }
}

/// Makes the exporter's sources reachable from the subscriber it is installed in, as the
/// tracer is (see `exporting::TracerLayer`): a test's subscriber has its own.
#[derive(Debug)]
pub(crate) struct MetricsLayer {
    sources: Arc<Sources>,
}

impl MetricsLayer {
    pub(crate) fn new(sources: Arc<Sources>) -> Self {
        Self { sources }
    }
}

impl<S: tracing::Subscriber> Layer<S> for MetricsLayer {}

/// Has the current subscriber's metric exporter (if it has one) send what `source` renders,
/// under the scope `scope` (`lists`, `gateway`, …), until the returned guard is dropped.
/// Without an exporter this does nothing.
pub fn export_metrics(scope: &'static str, source: MetricsSource) -> MetricsExported {
    let sources = tracing::dispatcher::get_default(|dispatch| {
        dispatch
            .downcast_ref::<MetricsLayer>()
            .map(|layer| layer.sources.clone())
    });
    let Some(sources) = sources else {
        return MetricsExported { registered: None };
    };
    let id = sources.next_id.fetch_add(1, Ordering::Relaxed);
    sources.entries().push((id, scope, source));
    MetricsExported {
        registered: Some((Arc::downgrade(&sources), id)),
    }
}

/// A source's registration: the source is no longer exported once this is dropped.
#[derive(Debug)]
#[must_use = "the source is exported only while this lives"]
pub struct MetricsExported {
    registered: Option<(Weak<Sources>, u64)>,
}

impl Drop for MetricsExported {
    fn drop(&mut self) {
        if let Some((sources, id)) = &self.registered {
            if let Some(sources) = sources.upgrade() {
                sources.entries().retain(|(entry, _, _)| entry != id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &'static str) -> MetricsSource {
        Arc::new(move || Box::pin(async move { text.to_owned() }))
    }

    #[test]
    fn a_source_is_exported_while_its_registration_lives_and_only_with_an_exporter() {
        let inert = export_metrics("nowhere", fixed("a 1\n"));
        assert!(inert.registered.is_none());

        let sources = Arc::new(Sources::default());
        let subscriber = tracing_subscriber::layer::SubscriberExt::with(
            tracing_subscriber::registry(),
            MetricsLayer::new(sources.clone()),
        );
        let registered = tracing::subscriber::with_default(subscriber, || {
            (
                export_metrics("one", fixed("a 1\n")),
                export_metrics("two", fixed("b 2\n")),
            )
        });
        let scopes = |sources: &Sources| -> Vec<&str> {
            sources
                .snapshot()
                .into_iter()
                .map(|(scope, _)| scope)
                .collect()
        };
        assert_eq!(scopes(&sources), ["one", "two"]);
        drop(registered.0);
        assert_eq!(scopes(&sources), ["two"]);
        drop(registered.1);
        assert!(scopes(&sources).is_empty());
    }
}
