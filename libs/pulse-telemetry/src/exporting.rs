//! Span export over OTLP/gRPC, when an endpoint is configured. The provider
//! follows the standard variables the SDK reads itself
//! (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`); the binary's own name is
//! the service name only when `OTEL_SERVICE_NAME` is not set. Metric export
//! uses the same [`resource`].

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{
    trace::{SdkTracer, SdkTracerProvider, SpanExporter as _},
    Resource,
};
use tracing_subscriber::Layer;

use crate::queue::{SpanQueue, QUEUE_SPANS};

/// Export cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("span export needs a Tokio runtime")]
    NoRuntime,
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("cannot use the OTLP metrics endpoint: {0}")]
    MetricsEndpoint(#[from] tonic::transport::Error),
}

/// What every span and metric of the process is attributed to: `service.name` (the binary's
/// unless `OTEL_SERVICE_NAME` says otherwise) and `OTEL_RESOURCE_ATTRIBUTES`.
pub(crate) fn resource(service_name: &'static str) -> Resource {
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service_name);
    }
    resource.build()
}

/// The provider exporting to `endpoint`, with the queue in front of it.
pub(crate) fn provider(
    resource: Resource,
    endpoint: &str,
) -> Result<SdkTracerProvider, ExportError> {
    tokio::runtime::Handle::try_current().map_err(|_| ExportError::NoRuntime)?;
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    exporter.set_resource(&resource);
    Ok(SdkTracerProvider::builder()
        .with_resource(resource)
        .with_span_processor(SpanQueue::start(exporter, QUEUE_SPANS))
        .build())
}

/// The crates that carry the export itself: their spans (at debug and trace
/// level) are not exported, or every export would make spans for the next.
const EXPORT_MACHINERY: [&str; 8] = [
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
];

pub(crate) fn is_export_machinery(target: &str) -> bool {
    EXPORT_MACHINERY.iter().any(|machinery| {
        target
            .strip_prefix(machinery)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Makes the tracer reachable from the subscriber it is installed in, for
/// spans recorded straight with OpenTelemetry ([`crate::ChildSpan`]); found
/// by downcasting the current dispatcher, so a test's own subscriber (set as
/// the thread's default) has its own.
#[derive(Debug)]
pub(crate) struct TracerLayer {
    tracer: SdkTracer,
}

impl TracerLayer {
    pub(crate) fn new(provider: &SdkTracerProvider, service_name: &'static str) -> Self {
        Self {
            tracer: provider.tracer(service_name),
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for TracerLayer {}

/// The tracer of the current subscriber; `None` when it exports nothing.
pub(crate) fn tracer() -> Option<SdkTracer> {
    tracing::dispatcher::get_default(|dispatch| {
        dispatch
            .downcast_ref::<TracerLayer>()
            .map(|layer| layer.tracer.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exports_own_crates_are_not_traced_and_ours_are() {
        assert!(is_export_machinery("h2::proto::connection"));
        assert!(is_export_machinery("tonic"));
        assert!(is_export_machinery("opentelemetry_otlp::exporter"));
        assert!(!is_export_machinery("pulse_grpc::trace"));
        assert!(!is_export_machinery("towering"));
    }
}
