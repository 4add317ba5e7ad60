//! What every gRPC server of the suite has in common: server reflection (v1
//! and v1alpha, so `grpcurl list`/`describe` work without .proto files), the
//! standard health service, HTTP/2 keep-alive, bearer authentication, a span
//! per request continuing the caller's trace, and `GET /metrics` (requests by
//! method and status, their latency, and what the service adds) on the same
//! port.

mod auth;
mod metrics;
mod server;
mod trace;

pub use auth::authenticate;
pub use metrics::CommandMetrics;
pub use pulse_telemetry::MetricsSource;
pub use server::GrpcServer;
pub use trace::{ObserveLayer, ObserveRequests};
