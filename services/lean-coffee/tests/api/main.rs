//! Integration tests of the Lean Coffee service through its gRPC API, with
//! events read from the bus as a gateway would read them.

mod helpers;

mod concurrency;
mod crowd;
mod nul;
mod participants;
mod rules;
mod sessions;
mod topics;
mod votes;
