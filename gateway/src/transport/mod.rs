//! Transports: HTTP endpoints and the I/O of each connection. Nothing here knows SignalR beyond
//! "bytes in, frames out"; the session does the rest.

mod answer;
mod body;
mod credentials;
mod demo;
mod forwarding;
mod listen;
mod long_polling;
mod metrics;
mod negotiate;
mod router;
mod sends;
mod sse;
mod web_app;
mod websocket;

pub use demo::{Demo, DemoRefused};
pub use forwarding::Forwarding;
pub use listen::{serve, ListenLimits};
pub(crate) use metrics::source as metrics_source;
pub use router::{router, AppState};
