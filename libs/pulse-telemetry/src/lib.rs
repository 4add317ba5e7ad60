//! Telemetry for every binary: `tracing` to stderr (text or JSON, filtered by
//! `RUST_LOG`) and, when an OTLP endpoint is configured, spans exported to an
//! OpenTelemetry collector over gRPC ([`Telemetry`]); W3C trace context
//! carried across the suite's process boundaries (`context`);
//! [`redact_query`], so no token reaches a log line; and the Prometheus text
//! format the `/metrics` endpoints are written in ([`prometheus`]).

mod context;
mod exporting;
mod json;
mod log_buffer;
pub mod prometheus;
mod queue;
mod redact;

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
/// exports spans.
#[derive(Debug, Clone)]
pub struct Telemetry {
    service_name: &'static str,
    log_format: LogFormat,
    otlp_endpoint: Option<String>,
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

    /// The subscriber, not installed (a test sets it as its thread's
    /// default). With an endpoint it must be called on a Tokio runtime, which
    /// runs the export.
    pub fn build(self) -> Result<(Dispatch, TelemetryGuard), ExportError> {
        let provider = self
            .otlp_endpoint
            .as_deref()
            .map(|endpoint| exporting::provider(self.service_name, endpoint))
            .transpose()?;
        Ok((
            self.subscriber(provider.as_ref()),
            TelemetryGuard { provider },
        ))
    }

    /// Installs the subscriber for the process. Call once, first thing in
    /// `main`, on the runtime. An exporter that cannot start is reported on
    /// stderr and the binary runs without export.
    pub fn init(self) -> TelemetryGuard {
        let provider = match self.otlp_endpoint.as_deref() {
            Some(endpoint) => exporting::provider(self.service_name, endpoint)
                .map_err(|error| eprintln!("span export is off: {error}"))
                .ok(),
            None => None,
        };
        // A second init (tests starting several binaries in one process)
        // keeps the first subscriber.
        let _ = self.subscriber(provider.as_ref()).try_init();
        TelemetryGuard { provider }
    }

    fn subscriber(&self, provider: Option<&SdkTracerProvider>) -> Dispatch {
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
        Dispatch::new(
            tracing_subscriber::registry()
                .with(filter)
                .with(fmt)
                .with(export),
        )
    }
}

/// Ends export when dropped: what is still queued is sent by the export
/// task if the runtime gives it the time.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = &self.provider {
            let _ = provider.shutdown();
        }
    }
}
