//! Every request a service serves runs in a span that continues the caller's
//! trace (its W3C `traceparent` metadata), so the service's work, and the
//! outbox rows it writes, belong to the gateway invocation that caused them.

use std::task::{Context, Poll};

use tonic::codegen::http;
use tower::{Layer, Service};
use tracing::{instrument::Instrumented, Instrument};

/// Wraps a server's routes in [`TraceRequests`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer;

impl<S> Layer<S> for TraceLayer {
    type Service = TraceRequests<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceRequests { inner }
    }
}

/// Runs each request in a span named after its method, a child of the
/// caller's span when the request names one.
#[derive(Debug, Clone)]
pub struct TraceRequests<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for TraceRequests<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Instrumented<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let span = tracing::info_span!(
            "grpc",
            otel.name = request.uri().path(),
            otel.kind = "server",
            rpc.system = "grpc",
        );
        if let Some(traceparent) = request
            .headers()
            .get(pulse_telemetry::TRACEPARENT)
            .and_then(|value| value.to_str().ok())
        {
            pulse_telemetry::continue_trace(&span, traceparent);
        }
        self.inner.call(request).instrument(span)
    }
}
