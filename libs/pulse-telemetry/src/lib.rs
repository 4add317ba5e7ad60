//! Telemetry for every binary: `tracing` to stderr (text or JSON, filtered by
//! `RUST_LOG`) and, when an OTLP endpoint is configured, spans exported to an
//! OpenTelemetry collector over gRPC ([`Telemetry`]), and the `/metrics` text
//! every process serves exported beside them ([`export_metrics`]); W3C trace context
//! carried across the suite's process boundaries (`context`);
//! [`redact_query`], so no token reaches a log line; and the Prometheus text
//! format the `/metrics` endpoints are written in ([`prometheus`]).

mod context;
mod exporting;
mod json;
mod log_buffer;
mod metric_export;
pub mod prometheus;
mod queue;
mod redact;

use metric_export::{MetricExporter, MetricsLayer};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_subscriber::{
    filter, fmt::writer::BoxMakeWriter, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter,
    Layer,
};

pub use context::{continue_trace, current_traceparent, start_trace, ChildSpan, TRACEPARENT};
pub use exporting::ExportError;
pub use log_buffer::LogBuffer;
pub use metric_export::{
    export_metrics, failed_metric_exports, MetricSchedule, MetricsExported, MetricsSource,
};
pub use opentelemetry::{trace::SpanKind, KeyValue};
pub use queue::dropped_spans;
pub use redact::redact_query;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?} (text or json)")),
        }
    }
}

/// What a binary's telemetry does: how it logs, and where (if anywhere) it
/// exports spans and metrics.
#[derive(Debug, Clone)]
pub struct Telemetry {
    service_name: &'static str,
    log_format: LogFormat,
    otlp_endpoint: Option<String>,
    /// Where metrics go instead of `otlp_endpoint`.
    otlp_metrics_endpoint: Option<String>,
    metric_schedule: MetricSchedule,
    /// Filter directives instead of `RUST_LOG`'s.
    log_filter: Option<String>,
    /// Lines go here instead of stderr.
    log_buffer: Option<LogBuffer>,
}

impl Telemetry {
    /// Text logs, no export.
    pub fn new(service_name: &'static str) -> Self {
        Self {
            service_name,
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            otlp_metrics_endpoint: None,
            metric_schedule: MetricSchedule::default(),
            log_filter: None,
            log_buffer: None,
        }
    }

    /// Logs what `directives` (`RUST_LOG` syntax) admit, whatever `RUST_LOG` says.
    pub fn log_filter(mut self, directives: &str) -> Self {
        self.log_filter = Some(directives.to_owned());
        self
    }

    /// Writes log lines into `buffer` instead of stderr, for a test to read.
    pub fn log_to(mut self, buffer: LogBuffer) -> Self {
        self.log_buffer = Some(buffer);
        self
    }

    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// Exports spans to this OTLP/gRPC collector (`http://host:4317`); no
    /// export without one.
    pub fn otlp_endpoint(mut self, endpoint: Option<String>) -> Self {
        self.otlp_endpoint = endpoint.filter(|endpoint| !endpoint.is_empty());
        self
    }

    /// Exports metrics to this OTLP/gRPC collector rather than the spans' one
    /// (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`).
    pub fn otlp_metrics_endpoint(mut self, endpoint: Option<String>) -> Self {
        self.otlp_metrics_endpoint = endpoint.filter(|endpoint| !endpoint.is_empty());
        self
    }

    pub fn metric_schedule(mut self, schedule: MetricSchedule) -> Self {
        self.metric_schedule = schedule;
        self
    }

    /// Where metrics are exported: their own endpoint, or the spans'.
    fn metrics_endpoint(&self) -> Option<&str> {
        self.otlp_metrics_endpoint
            .as_deref()
            .or(self.otlp_endpoint.as_deref())
    }

    /// The subscriber, not installed (a test sets it as its thread's
    /// default). With an endpoint it must be called on a Tokio runtime, which
    /// runs the export.
    pub fn build(self) -> Result<(Dispatch, TelemetryGuard), ExportError> {
        let resource = exporting::resource(self.service_name);
        let provider = self
            .otlp_endpoint
            .as_deref()
            .map(|endpoint| exporting::provider(resource.clone(), endpoint))
            .transpose()?;
        let metrics = self
            .metrics_endpoint()
            .map(|endpoint| MetricExporter::start(&resource, endpoint, self.metric_schedule))
            .transpose()?;
        Ok((
            self.subscriber(provider.as_ref(), metrics.as_ref()),
            TelemetryGuard {
                provider,
                _metrics: metrics,
            },
        ))
    }

    /// Installs the subscriber for the process. Call once, first thing in
    /// `main`, on the runtime. An exporter that cannot start is reported on
    /// stderr and the binary runs without that export.
    pub fn init(self) -> TelemetryGuard {
        let resource = exporting::resource(self.service_name);
        let provider = match self.otlp_endpoint.as_deref() {
            Some(endpoint) => exporting::provider(resource.clone(), endpoint)
                .map_err(|error| eprintln!("span export is off: {error}"))
                .ok(),
            None => None,
        };
        let metrics = match self.metrics_endpoint() {
            Some(endpoint) => MetricExporter::start(&resource, endpoint, self.metric_schedule)
                .map_err(|error| eprintln!("metric export is off: {error}"))
                .ok(),
            None => None,
        };
        // A second init (tests starting several binaries in one process)
        // keeps the first subscriber.
        let _ = self
            .subscriber(provider.as_ref(), metrics.as_ref())
            .try_init();
        TelemetryGuard {
            provider,
            _metrics: metrics,
        }
    }

    fn subscriber(
        &self,
        provider: Option<&SdkTracerProvider>,
        metrics: Option<&MetricExporter>,
    ) -> Dispatch {
        let filter = match &self.log_filter {
            Some(directives) => EnvFilter::new(directives),
            None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        };
        let writer = || match &self.log_buffer {
            Some(buffer) => BoxMakeWriter::new(buffer.clone()),
            None => BoxMakeWriter::new(std::io::stderr),
        };
        let fmt = match self.log_format {
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_writer(writer())
                .boxed(),
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .json()
                .event_format(json::JsonWithTraceId::new())
                .with_writer(writer())
                .boxed(),
        };
        let export = provider.map(|provider| {
            let tracer = exporting::TracerLayer::new(provider, self.service_name);
            let bridge = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer(self.service_name))
                .with_filter(filter::filter_fn(|metadata| {
                    !exporting::is_export_machinery(metadata.target())
                }));
            tracer.and_then(bridge)
        });
        let metrics = metrics.map(|exporter| MetricsLayer::new(exporter.sources()));
        Dispatch::new(
            tracing_subscriber::registry()
                .with(filter)
                .with(fmt)
                .with(export)
                .with(metrics),
        )
    }
}

/// Ends export when dropped: what is still queued is sent by the export
/// task if the runtime gives it the time; metrics are not exported again.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    /// Held for its drop, which ends the metric export.
    _metrics: Option<MetricExporter>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = &self.provider {
            let _ = provider.shutdown();
        }
    }
}
