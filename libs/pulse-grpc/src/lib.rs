//! What every gRPC server of the suite has in common: server reflection (v1
//! and v1alpha, so `grpcurl list`/`describe` work without .proto files), the
//! standard health service, HTTP/2 keep-alive, and bearer authentication.

mod auth;
mod server;

pub use auth::authenticate;
pub use server::GrpcServer;
