//! Every request a service serves runs in a span that continues the caller's
//! trace (its W3C `traceparent` metadata), so the service's work, and the
//! outbox rows it writes, belong to the gateway invocation that caused them;
//! and is counted, with its status and latency, in the server's
//! [`CommandMetrics`].

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use tonic::{codegen::http, Code};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::metrics::CommandMetrics;

/// Wraps a server's routes in [`ObserveRequests`].
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    metrics: Arc<CommandMetrics>,
    /// The services of the server (their full names), the only methods
    /// counted by name.
    served: Arc<[&'static str]>,
}

impl ObserveLayer {
    pub(crate) fn new(metrics: Arc<CommandMetrics>, served: Arc<[&'static str]>) -> Self {
        Self { metrics, served }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = ObserveRequests<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObserveRequests {
            inner,
            layer: self.clone(),
        }
    }
}

/// Runs each request in a span named after its method, a child of the
/// caller's span when the request names one, and counts it.
#[derive(Debug, Clone)]
pub struct ObserveRequests<S> {
    inner: S,
    layer: ObserveLayer,
}

impl<S, B, R> Service<http::Request<B>> for ObserveRequests<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // `GET /metrics` and anything else that is not gRPC passes unobserved.
        let grpc = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|kind| kind.as_bytes().starts_with(b"application/grpc"));
        if !grpc {
            return Box::pin(self.inner.call(request));
        }
        let started = Instant::now();
        let method = request.uri().path().to_owned();
        let span = tracing::info_span!(
            "grpc",
            otel.name = method.as_str(),
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
        let response = self.inner.call(request).instrument(span);
        let layer = self.layer.clone();
        Box::pin(async move {
            let response = response.await;
            // An error status comes in the headers (a trailers-only response); a
            // success leaves them without one and sends OK in the trailers.
            let status = match &response {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .map_or(Code::Ok, |status| Code::from_bytes(status.as_bytes())),
                Err(_) => Code::Unknown,
            };
            layer
                .metrics
                .record(&layer.served, &method, status, started.elapsed());
            response
        })
    }
}
