//! The gateway: SignalR for browsers in front of the event bus.
//!
//! Layers, each using only those below it (`protocol` is a pure codec any
//! layer may use):
//! `transport` (HTTP, WebSocket I/O) → `session` (one connection's life) →
//! `hub` (methods, calls to domain services) → `node` (groups, one bus
//! subscription per group, fan-out) → `pulse_bus`.

mod config;
mod hub;
pub mod node;
mod principal;
pub mod protocol;
mod service_urls;
mod session;
mod startup;
mod streams;
mod task_boundary;
mod transport;

pub use config::GatewayConfig;
pub use hub::event_matrix_markdown;
pub use service_urls::ServiceUrls;
pub use session::SignalrEncoder;
pub use startup::{GatewayApp, GatewayListeners, StartupError};
