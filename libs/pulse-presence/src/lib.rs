//! Presence calls (enter, keep alive, exit), coalesced: the calls of one kind
//! that arrive while a batch is in the database wait and go together in the
//! next one, one transaction and one commit for all of them instead of one
//! each. Nothing waits for a timer: a lone call goes at once, and under a
//! crowd (10,000 connections joining one list) batches grow by themselves,
//! so the crowd costs a few dozen transactions. Each caller still gets its
//! own outcome; a batch the database refuses as a whole is retried one call
//! at a time, so one bad call never fails the others.
//!
//! Shared by the shopping-list and Lean Coffee services: list presence and
//! session participation are one mechanism. A service implements
//! [`Presence`] for its store, keeps a [`PresenceQueue`] and runs a
//! [`Sweeper`]; underneath, each kind of call has a
//! `pulse_batch::Coalescer`.

mod queue;
mod sweeper;

pub use pulse_batch::Batch;
pub use queue::{Presence, PresenceQueue};
pub use sweeper::Sweeper;
