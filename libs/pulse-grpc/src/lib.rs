//! What every gRPC server of the suite has in common: server reflection (v1
//! and v1alpha, so `grpcurl list`/`describe` work without .proto files), the
//! standard health service, HTTP/2 keep-alive, bearer authentication, and a
//! span per request continuing the caller's trace.

mod auth;
mod server;
mod trace;

pub use auth::authenticate;
pub use server::GrpcServer;
pub use trace::{TraceLayer, TraceRequests};
