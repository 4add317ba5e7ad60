//! Fixtures for integration tests. Each test gets its own database and, when
//! it needs to stop the broker, its own `nats-server` on a random port; both
//! are removed when the fixture is dropped.
#![allow(clippy::unwrap_used)] // test-only crate: a failed fixture should fail the test loudly

mod database;
mod nats;

pub use database::TestDatabase;
pub use nats::NatsServer;

/// The shared NATS that tests use when they do not need to stop it.
pub fn shared_nats_url() -> String {
    std::env::var("PULSE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A unique, valid bus namespace, so parallel tests never share subjects.
pub fn unique_namespace() -> String {
    format!("t{}", uuid::Uuid::new_v4().simple())
}
