//! The test harness: a running service on 127.0.0.1:0 with its own database
//! and bus namespace, gRPC clients bearing the master key or a virtual key,
//! and subscriptions to groups as a gateway would hold them. The parts every
//! service's tests share are in `pulse-testkit`.

use std::time::Duration;

use pulse_auth::MasterKey;
use pulse_bus::{StartAt, Topic};
use pulse_proto::tasks::v1::{
    producers_client::ProducersClient, tasks_client::TasksClient,
    virtual_keys_client::VirtualKeysClient, CreateTaskRequest, CreateVirtualKeyRequest,
    CreatedVirtualKey, Task,
};
use pulse_tasks::TasksConfig;
use pulse_testkit::{Authorized, Bearer, Events, TestEnv, TestService};
use secrecy::SecretString;
use sqlx::PgPool;

pub const MASTER_KEY: &str = "tasks-test-master-key-0123456789";

/// What differs between test apps.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub spend_window: Duration,
    pub spend_interval: Duration,
    pub unusual_factor: f64,
    /// The configured master key; `None` configures none.
    pub master_key: Option<&'static str>,
    /// Database connections of the service; concurrency tests queue many
    /// more transactions than this.
    pub db_max_connections: u32,
}

impl Default for AppOptions {
    /// The service's own defaults, with the test master key.
    fn default() -> Self {
        Self {
            spend_window: Duration::from_secs(1),
            spend_interval: Duration::from_millis(200),
            unusual_factor: 3.0,
            master_key: Some(MASTER_KEY),
            db_max_connections: 5,
        }
    }
}

pub type Keys = VirtualKeysClient<Authorized>;
pub type Tasks = TasksClient<Authorized>;
pub type Producers = ProducersClient<Authorized>;

/// A running service. Dropping it cancels the service.
pub struct TestApp {
    service: TestService,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    start(TestEnv::new().await, options).await
}

async fn start(env: TestEnv, options: AppOptions) -> TestApp {
    let config = TasksConfig {
        tasks_addr: "127.0.0.1:0".parse().expect("address"),
        tasks_database_url: SecretString::from(env.db.url()),
        tasks_db_max_connections: options.db_max_connections.try_into().expect("non-zero"),
        spend_window: options.spend_window,
        spend_aggregation_interval: options.spend_interval,
        unusual_spend_factor: options.unusual_factor,
    };
    let master_key = options
        .master_key
        .map(|key| MasterKey::new(key).expect("long enough"));
    let service = TestService::start::<pulse_tasks::Tasks>(env, &config, master_key).await;
    TestApp { service }
}

impl TestApp {
    /// `VirtualKeys` bearing the master key.
    pub async fn keys(&self) -> Keys {
        self.keys_as(Some(MASTER_KEY)).await
    }

    /// `VirtualKeys` bearing `credential` (nothing when `None`).
    pub async fn keys_as(&self, credential: Option<&str>) -> Keys {
        VirtualKeysClient::new(self.service.channel(Bearer::new(credential)).await)
    }

    /// `Producers` bearing the master key.
    pub async fn producers(&self) -> Producers {
        self.producers_as(Some(MASTER_KEY)).await
    }

    pub async fn producers_as(&self, credential: Option<&str>) -> Producers {
        ProducersClient::new(self.service.channel(Bearer::new(credential)).await)
    }

    /// `Tasks` bearing `credential` (a virtual key's secret, or anything else
    /// to see it refused).
    pub async fn tasks_as(&self, credential: Option<&str>) -> Tasks {
        TasksClient::new(self.service.channel(Bearer::new(credential)).await)
    }

    /// The service's database, for what the API does not show.
    pub async fn db(&self) -> PgPool {
        PgPool::connect(&self.service.env().db.url())
            .await
            .expect("database")
    }

    /// How many events the service has numbered for `topic`'s group: with
    /// the events already received, proof that nothing else was (or will
    /// be) sent.
    pub async fn sequence(&self, topic: Topic) -> u64 {
        self.service.env().outbox_sequence(&topic).await
    }

    /// Every event of `topic` published from now on.
    pub async fn subscribe(&self, topic: Topic) -> Events {
        self.service.env().subscribe(&topic, StartAt::New).await
    }

    /// Cancels the service and waits until it has stopped.
    pub async fn stop(self) {
        self.service.stop().await;
    }

    /// Starts a second instance on the same database and bus namespace, as
    /// a scaled-out deployment runs them.
    pub async fn another_instance(&self, options: AppOptions) -> TestApp {
        start(self.service.env().clone(), options).await
    }

    /// Stops this service and starts a new one on the same database and bus
    /// namespace, as a deployment restart would.
    pub async fn restart(self, options: AppOptions) -> TestApp {
        let env = self.service.env().clone();
        self.stop().await;
        start(env, options).await
    }
}

/// Issues a virtual key with the master key.
pub async fn create_key(app: &TestApp, name: &str, budget: Option<f64>) -> CreatedVirtualKey {
    app.keys()
        .await
        .create_virtual_key(CreateVirtualKeyRequest {
            name: name.into(),
            budget,
        })
        .await
        .expect("key created")
        .into_inner()
}

/// The id of a created key.
pub fn key_id(created: &CreatedVirtualKey) -> String {
    created.key.as_ref().expect("key").id.clone()
}

/// Creates a task of `kind` as the key with `secret`.
pub async fn create_task(app: &TestApp, secret: &str, kind: &str) -> Task {
    app.tasks_as(Some(secret))
        .await
        .create_task(CreateTaskRequest {
            kind: kind.into(),
            task_type: format!("{}.generate", kind.to_lowercase()),
        })
        .await
        .expect("task created")
        .into_inner()
}

/// A UUID string into a UUID, for topics.
pub fn uuid(id: &str) -> uuid::Uuid {
    id.parse().expect("a UUID")
}
