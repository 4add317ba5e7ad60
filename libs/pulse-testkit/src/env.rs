//! Where a service under test runs: a database of its own and a bus
//! namespace of its own, so tests run in parallel without seeing each
//! other's rows or events. A test that restarts the service, or starts a
//! second instance, starts it in the same environment ([`crate::TestService`]).

use std::sync::Arc;

use pulse_bus::{Bus, Namespace, StartAt, Topic};

use crate::{Events, TestDatabase};

/// A service's database and bus namespace, and the test's own connection to
/// that namespace. Cheap to clone: clones share the database, which lives as
/// long as the last of them.
#[derive(Clone)]
pub struct TestEnv {
    pub db: Arc<TestDatabase>,
    nats_url: String,
    namespace: Namespace,
    /// The test's connection, apart from the service's, as a gateway's is.
    bus: Bus,
}

impl TestEnv {
    /// A new database and a unique namespace on the shared NATS.
    pub async fn new() -> Self {
        let db = Arc::new(TestDatabase::create().await);
        Self::on(db, &crate::shared_nats_url(), &crate::unique_namespace()).await
    }

    /// An existing database, and `namespace` on the NATS at `nats_url`: what
    /// a test that stops NATS, or restarts the service, starts it on.
    pub async fn on(db: Arc<TestDatabase>, nats_url: &str, namespace: &str) -> Self {
        let namespace = Namespace::new(namespace).expect("valid namespace");
        let bus = Bus::connect(nats_url, namespace.clone())
            .await
            .expect("test bus");
        Self {
            db,
            nats_url: nats_url.to_owned(),
            namespace,
            bus,
        }
    }

    /// A connection of the service's own to the namespace.
    pub async fn service_bus(&self) -> Bus {
        Bus::connect(&self.nats_url, self.namespace.clone())
            .await
            .expect("service bus")
    }

    /// Every event of `topic` from `start`, as a gateway would read them.
    /// From [`StartAt::New`], that is every event committed after this call:
    /// an acknowledged command has committed its events, not necessarily
    /// published them yet, so the subscription starts once the relay has
    /// published everything of the group committed before.
    pub async fn subscribe(&self, topic: &Topic, start: StartAt) -> Events {
        if start == StartAt::New {
            let what = format!("{topic:?}: committed events published");
            crate::wait_until(&what, crate::PATIENCE, || async {
                crate::outbox::outbox_waiting(&self.db, topic).await == 0
            })
            .await;
        }
        Events::subscribe(&self.bus, topic, start).await
    }

    /// How many events the service has numbered for `topic`'s group.
    pub async fn outbox_sequence(&self, topic: &Topic) -> u64 {
        crate::outbox::outbox_sequence(&self.db, topic).await
    }
}
