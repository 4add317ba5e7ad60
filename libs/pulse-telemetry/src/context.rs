//! W3C trace context across process boundaries: the `traceparent` of the
//! current span for a gRPC call, an outbox row or a bus message, and spans
//! continuing a `traceparent` received from one.
//!
//! Everything here costs next to nothing when no exporter is configured: the
//! current span then has no OpenTelemetry context, so there is no
//! `traceparent` to send, and [`ChildSpan::start`] finds no tracer.

use std::time::SystemTime;

use opentelemetry::{
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::{Span as _, SpanContext, SpanKind, Status, TraceContextExt, Tracer as _},
    Context, KeyValue,
};
use opentelemetry_sdk::{
    propagation::TraceContextPropagator,
    trace::{SdkTracer, Span},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header (gRPC metadata key, bus message header) that carries the trace
/// context.
pub const TRACEPARENT: &str = "traceparent";

/// The `traceparent` of the current span; `None` when it is not traced
/// (tracing off, or the span sampled out and with no sampled parent).
pub fn current_traceparent() -> Option<String> {
    traceparent_of(tracing::Span::current().context().span().span_context())
}

fn traceparent_of(span: &SpanContext) -> Option<String> {
    if !span.is_valid() {
        return None;
    }
    let mut carrier = Carrier(None);
    TraceContextPropagator::new().inject_context(
        &Context::new().with_remote_span_context(span.clone()),
        &mut carrier,
    );
    carrier.0
}

fn parent_from(traceparent: &str) -> Option<Context> {
    let context = TraceContextPropagator::new().extract(&Received(traceparent));
    context.span().span_context().is_valid().then_some(context)
}

/// Makes `span` a child of the remote span named by `traceparent` (one that
/// does not parse is ignored: the span starts a trace of its own).
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    if let Some(parent) = parent_from(traceparent) {
        // Fails only when tracing is off, where there is nothing to continue.
        let _ = span.set_parent(parent);
    }
}

/// Makes `span` the root of a trace of its own, rather than part of the
/// trace of the span it runs in (a hub invocation inside its long-lived
/// connection).
pub fn start_trace(span: &tracing::Span) {
    let _ = span.set_parent(Context::new());
}

/// A span recorded straight with OpenTelemetry, for work whose start lies
/// before the code that records it (the wait of an outbox row) or that runs
/// on a hot path, where a `tracing` span would cost even with tracing off.
#[derive(Debug)]
pub struct ChildSpan(Span);

impl ChildSpan {
    /// Starts a span at `start` under the remote span `parent`; `None` when
    /// tracing is off or `parent` is not a trace context.
    pub fn start(
        name: &'static str,
        kind: SpanKind,
        parent: &str,
        start: SystemTime,
    ) -> Option<Self> {
        let tracer = crate::exporting::tracer()?;
        let parent = parent_from(parent)?;
        Some(Self::under(&tracer, name, kind, &parent, start))
    }

    fn under(
        tracer: &SdkTracer,
        name: &'static str,
        kind: SpanKind,
        parent: &Context,
        start: SystemTime,
    ) -> Self {
        let builder = tracer
            .span_builder(name)
            .with_kind(kind)
            .with_start_time(start);
        Self(tracer.build_with_context(builder, parent))
    }

    /// The `traceparent` naming this span, for the next hop.
    pub fn traceparent(&self) -> Option<String> {
        traceparent_of(self.0.span_context())
    }

    pub fn set_attribute(&mut self, attribute: KeyValue) {
        self.0.set_attribute(attribute);
    }

    /// Marks the span failed, with the reason.
    pub fn fail(&mut self, reason: String) {
        self.0.set_status(Status::error(reason));
    }

    pub fn end_at(mut self, end: SystemTime) {
        self.0.end_with_timestamp(end);
    }
}

/// Collects the `traceparent` an injection writes.
struct Carrier(Option<String>);

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.0 = Some(value);
        }
    }
}

/// A received `traceparent`, as the one header an extraction reads.
struct Received<'a>(&'a str);

impl Extractor for Received<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT).then_some(self.0)
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;

    #[test]
    fn a_traceparent_names_the_span_and_continues_under_it() {
        let provider = SdkTracerProvider::builder().build();
        let tracer = provider.tracer("test");
        let parent_text = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let parent = parent_from(parent_text).expect("a valid traceparent");
        let child = ChildSpan::under(
            &tracer,
            "child",
            SpanKind::Internal,
            &parent,
            SystemTime::now(),
        );
        let child_text = child.traceparent().expect("a traceparent");
        assert!(
            child_text.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "{child_text}"
        );
        assert_ne!(child_text, parent_text);
        assert!(child_text.ends_with("-01"), "sampled: {child_text}");
    }

    #[test]
    fn what_is_not_a_traceparent_continues_nothing() {
        assert!(parent_from("nonsense").is_none());
        assert!(parent_from("00-00000000000000000000000000000000-b7ad6b7169203331-01").is_none());
        assert!(ChildSpan::start("x", SpanKind::Internal, "nonsense", SystemTime::now()).is_none());
    }
}
