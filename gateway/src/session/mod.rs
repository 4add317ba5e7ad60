//! Sessions: the life of one SignalR connection between negotiate and close, independent of the
//! transport that carries its bytes.

mod close;
mod close_schedule;
mod config;
mod connection;
mod event_encoder;
mod handshake;
mod inbox;
mod keep_alive;
mod link;
mod metrics;
mod registry;
mod signal;
mod stateful;

pub use close::CloseReason;
pub use close_schedule::CloseSchedule;
pub use config::SessionConfig;
pub use connection::Connection;
pub use event_encoder::SignalrEncoder;
pub use inbox::Inbound;
pub use link::{FrameSource, Link, Turn};
pub use metrics::SessionMetrics;
pub use registry::{
    AttachError, Attachment, ClaimRefused, Claimed, Found, Registry, RegistryLimits, Starting,
};

use connection::run_connection;
use stateful::{Incoming, Replay};
