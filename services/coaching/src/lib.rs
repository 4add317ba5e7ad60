//! The coaching service (CONTRACT §3.3): chat between users, trainer-client
//! relationships, goals with their progress, and per-user notifications,
//! behind the `pulse.coaching.v1.Coaching` gRPC API.
//!
//! Every event goes to one user's group — `chat_{userId}`,
//! `goals_{userId}` or `notifications_{userId}` — so a user receives it on
//! every connection of every gateway, and a message sent while the recipient
//! is offline is simply in their history. Each change commits together with
//! its events in a transactional outbox, so nothing is announced that was not
//! stored and nothing stored goes unannounced.
//!
//! The database keeps the rules that races could break: one conversation row
//! per pair of users, at most one pending or active relationship per trainer
//! and client (a partial unique index), and read receipts and deletions as
//! conditional updates, so two connections doing the same thing at once
//! cause one event, not two.
//!
//! Embed it with [`CoachingApp::build`] and [`CoachingApp::run_until_stopped`];
//! `pulse coaching` (and `pulse suite`, beside the others) in `deploy/pulse`
//! runs it as a process; the library has no binary of its own, so there is
//! one way to start it.

mod config;
mod domain;
mod error;
mod events;
mod grpc;
mod startup;
mod store;
mod wire;

pub use config::CoachingConfig;
pub use pulse_service::{RunError, StartupError};
pub use startup::{Coaching, CoachingApp};

pub(crate) use error::CoachingError;
