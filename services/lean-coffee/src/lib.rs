//! The Lean Coffee service (CONTRACT §3.2): sessions, topics, votes and
//! participants behind the `pulse.leancoffee.v1.LeanCoffee` gRPC API.
//!
//! Every change commits together with its event in a transactional outbox;
//! the relay publishes events to group `session_{sessionId}` on the bus in
//! commit order, numbered 1, 2, 3 ... per session. Vote integrity is the
//! database's job: a unique key allows one vote per user per topic, and vote
//! counts are counted from the stored votes while the topic row is locked, so
//! the `voteCount` of every event is what the store held after that change.
//!
//! Embed it with [`LeanCoffeeApp::build`] and
//! [`LeanCoffeeApp::run_until_stopped`]; `pulse lean-coffee` (and `pulse
//! suite`, beside the others) in `deploy/pulse` runs it as a process; the
//! library has no binary of its own, so there is one way to start it.

mod config;
mod domain;
mod error;
mod events;
mod grpc;
mod startup;
mod store;
mod wire;

pub use config::LeanCoffeeConfig;
pub use pulse_service::{RunError, StartupError};
pub use startup::{LeanCoffee, LeanCoffeeApp};

pub(crate) use error::{LeanCoffeeError, LeanCoffeeRefusal};
