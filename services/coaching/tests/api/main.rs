//! Integration tests of the coaching service through its gRPC API, with
//! events read from the bus as a gateway would read them.

mod helpers;

mod chat;
mod concurrency;
mod goals;
mod notifications;
mod nul;
mod paging;
mod relationships;
mod rules;
