//! The test harness: a running service on 127.0.0.1:0 with its own database
//! and bus namespace, gRPC clients acting as given users, and a subscription
//! to a list's events as a gateway would hold it. The parts every service's
//! tests share are in `pulse-testkit`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use pulse_bus::StartAt;
use pulse_lists::{Lists, ListsConfig};
use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use pulse_proto::lists::v1::{CreateListRequest, GetListRequest, ListSnapshot, ShoppingList};
use pulse_proto::lists::LIST;
use pulse_testkit::{Authorized, Bearer, Events, TestDatabase, TestEnv, TestService, TestUser};
use secrecy::SecretString;

/// What differs between test apps.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub nats_url: String,
    pub namespace: String,
    pub presence_timeout: Duration,
    pub presence_sweep_interval: Duration,
    /// Where the service reaches its database, if not directly (through a
    /// proxy the test can cut).
    pub database_url: Option<String>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            nats_url: pulse_testkit::shared_nats_url(),
            namespace: pulse_testkit::unique_namespace(),
            presence_timeout: Duration::from_secs(45),
            presence_sweep_interval: Duration::from_secs(5),
            database_url: None,
        }
    }
}

pub type Client = ShoppingListsClient<Authorized>;

/// A running service. Dropping it cancels the service.
pub struct TestApp {
    service: TestService,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    spawn_app_on(Arc::new(TestDatabase::create().await), options).await
}

/// Starts a service on an existing database (a restart, in durability tests).
pub async fn spawn_app_on(db: Arc<TestDatabase>, options: AppOptions) -> TestApp {
    let env = TestEnv::on(db, &options.nats_url, &options.namespace).await;
    let config = ListsConfig {
        lists_addr: "127.0.0.1:0".parse().expect("address"),
        database_url: SecretString::from(options.database_url.unwrap_or_else(|| env.db.url())),
        db_max_connections: 5.try_into().expect("non-zero"),
        presence_timeout: options.presence_timeout,
        presence_sweep_interval: options.presence_sweep_interval,
    };
    let validator = pulse_testkit::jwt_validator();
    let service = TestService::start::<Lists>(env, &config, validator).await;
    TestApp { service }
}

impl TestApp {
    /// Where the service listens, for clients built by the test itself.
    pub fn addr(&self) -> SocketAddr {
        self.service.addr()
    }

    /// A client acting as `user`.
    pub async fn client(&self, user: &TestUser) -> Client {
        self.client_with(user.bearer()).await
    }

    /// A client that sends no credential.
    pub async fn anonymous_client(&self) -> Client {
        self.client_with(Bearer::new(None)).await
    }

    pub async fn client_with(&self, bearer: Bearer) -> Client {
        ShoppingListsClient::new(self.service.channel(bearer).await)
    }

    /// Every event of the list published from now on.
    pub async fn subscribe(&self, list_id: &str) -> Events {
        self.subscribe_from(list_id, StartAt::New).await
    }

    pub async fn subscribe_from(&self, list_id: &str, start: StartAt) -> Events {
        let topic = LIST.topic(list_id.parse().expect("list id"));
        self.service.env().subscribe(&topic, start).await
    }

    /// Cancels the service and waits until it has stopped.
    pub async fn stop(self) {
        self.service.stop().await;
    }
}

/// Creates a list owned by `client`'s user.
pub async fn create_list(client: &mut Client, name: &str) -> ShoppingList {
    client
        .create_list(CreateListRequest {
            name: name.into(),
            description: None,
        })
        .await
        .expect("list created")
        .into_inner()
}

pub async fn snapshot(client: &mut Client, list_id: &str) -> ListSnapshot {
    client
        .get_list(GetListRequest {
            list_id: list_id.into(),
        })
        .await
        .expect("snapshot")
        .into_inner()
}
