//! How many events a service has numbered for a group, and how many still
//! wait to be published, read where the service's outbox keeps them. A gRPC call that returned has committed
//! its events, so this is exact with no waiting: with the events a test has
//! already received it proves that nothing else was, or will be, sent —
//! which waiting for an absence on the bus never proves.

use pulse_bus::Topic;
use sqlx::{Connection, PgConnection};

use crate::TestDatabase;

/// The sequence of `topic`'s last event in the service's database (0 when it
/// has had none).
pub(crate) async fn outbox_sequence(db: &TestDatabase, topic: &Topic) -> u64 {
    let mut conn = PgConnection::connect(&db.url())
        .await
        .expect("database connection");
    pulse_outbox::current_sequence(&mut conn, topic)
        .await
        .expect("sequence read")
}

/// How many of `topic`'s committed rows the relay has not published yet.
pub(crate) async fn outbox_waiting(db: &TestDatabase, topic: &Topic) -> u64 {
    let mut conn = PgConnection::connect(&db.url())
        .await
        .expect("database connection");
    pulse_outbox::waiting(&mut conn, topic)
        .await
        .expect("outbox read")
}
