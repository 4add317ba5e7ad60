//! Fixtures for integration tests. Each test gets its own database and, when
//! it needs to stop the broker, its own `nats-server` on a random port; both
//! are removed when the fixture is dropped. A test that takes the database
//! away from a service puts a [`TcpProxy`] of its own in between and cuts it.
//!
//! The rest is the harness every service's API tests share, so that a fifth
//! service copies the pattern and not the code: where a service under test
//! runs ([`TestEnv`]), the service itself and its lifecycle ([`TestService`],
//! [`RunningService`]), users with tokens
//! and the interceptor that sends them ([`TestUser`], [`Bearer`]), a group's
//! events as a gateway reads them ([`Events`]), the outbox's count of
//! them ([`TestEnv::outbox_sequence`]), the text of a refusal a unit test
//! checks ([`invalid_message`]), waiting on a condition ([`wait_until`],
//! [`poll_until`]) or, for a deliberate pause, a named window ([`quiet_for`]),
//! the table of calls with text the
//! database cannot store that every service must refuse ([`NulInputs`]), what
//! presence tests check a crowd with ([`NOTICE`], [`refusal_codes`],
//! [`sorted_ids`], [`Events::expect_notices`]), and a collector receiving
//! the spans and metrics the suite exports ([`Collector`]).
//! What stays in a service's `tests/api/helpers.rs` is what only that service
//! has: its config, its clients, its domain steps.
#![allow(clippy::unwrap_used)] // test-only crate: a failed fixture should fail the test loudly

use std::time::Duration;

mod collector;
mod crowd;
mod database;
mod env;
mod events;
mod grpc;
mod nats;
mod nul;
mod outbox;
mod polling;
mod proxy;
mod quiet;
mod refusal;
mod running;
mod service;
mod users;

pub use collector::{Collector, MetricKind, ReceivedPoint, ReceivedSpan};
pub use crowd::{refusal_codes, sorted_ids, NOTICE};
pub use database::TestDatabase;
pub use env::TestEnv;
pub use events::Events;
pub use grpc::{assert_needs_bearer, assert_refused, connect, Authorized, Bearer};
pub use nats::NatsServer;
pub use nul::NulInputs;
pub use polling::{poll_until, wait_until};
pub use proxy::TcpProxy;
pub use quiet::quiet_for;
pub use refusal::invalid_message;
pub use running::RunningService;
pub use service::TestService;
pub use users::{jwt_validator, TestUser};

/// Longest wait for anything that should happen (an event, a shutdown). Long,
/// because it only runs out when a test is failing anyway.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The event retention services under test are configured with. Streams the
/// tests create themselves get the same, so it does not matter whether the
/// test or the service's relay creates a stream first.
pub const EVENT_RETENTION: Duration = Duration::from_secs(600);

/// The shared NATS that tests use when they do not need to stop it.
pub fn shared_nats_url() -> String {
    std::env::var("PULSE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A unique, valid bus namespace, so parallel tests never share subjects.
pub fn unique_namespace() -> String {
    format!("t{}", uuid::Uuid::new_v4().simple())
}

/// What [`expect_kind!`] expands to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use pulse_proto::events::v1::Event;
}
