//! Service replicas as separate OS processes of the real `pulse` binary on
//! one database and one NATS: any replica serves any command, exactly one
//! relays, and when the one relaying is killed (SIGKILL) or stopped
//! (SIGTERM) another takes over with nothing lost or stored twice; two
//! replicas of each of the four services serve its commands; and a gateway
//! started before any service creates the event streams itself.
//! `cargo test -p pulse --test replicas -- --nocapture` prints the figures.
#![allow(clippy::unwrap_used)] // a failed fixture should fail the test loudly

mod every_service;
mod gateway_first;
mod handover;
mod helpers;
mod replica;
mod writer;
