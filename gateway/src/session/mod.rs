//! Sessions: the life of one SignalR connection between negotiate and close,
//! independent of the transport that carries its bytes.

mod config;
mod connection;
mod event_encoder;
mod registry;

pub use config::SessionConfig;
pub use connection::{run_connection, Connection, Ending};
pub use event_encoder::SignalrEncoder;
pub use registry::{ActivateError, Registry};
