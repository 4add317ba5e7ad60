//! The test harness: a running service on 127.0.0.1:0 with its own database
//! and bus namespace, gRPC clients acting as given users, and a subscription
//! to a list's events as a gateway would hold it.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures::StreamExt;
use prost::Message;
use pulse_auth::{JwtKeys, JwtValidator, TokenRequest};
use pulse_bus::{Bus, Deliveries, Namespace, StartAt, StreamKind, Topic};
use pulse_lists::{ListsApp, ListsConfig, RunError};
use pulse_proto::events::v1::{event::Kind, EventEnvelope};
use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use pulse_proto::lists::v1::{CreateListRequest, GetListRequest, ListSnapshot, ShoppingList};
use pulse_testkit::TestDatabase;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

/// Longest wait for anything that should happen (an event, a shutdown).
pub const PATIENCE: Duration = Duration::from_secs(15);
const RETENTION: Duration = Duration::from_secs(600);
const SECRET: &str = "lists-test-secret";

/// A user with a display name; tokens are minted for them on demand.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub name: String,
}

impl TestUser {
    pub fn new(name: &str) -> Self {
        Self {
            id: Uuid::new_v4(),
            name: name.to_owned(),
        }
    }
}

/// What differs between test apps.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub nats_url: String,
    pub namespace: String,
    pub presence_timeout: Duration,
    pub presence_sweep_interval: Duration,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            nats_url: pulse_testkit::shared_nats_url(),
            namespace: pulse_testkit::unique_namespace(),
            presence_timeout: Duration::from_secs(45),
            presence_sweep_interval: Duration::from_secs(5),
        }
    }
}

pub type Client = ShoppingListsClient<InterceptedService<Channel, Bearer>>;

/// Adds `authorization: Bearer <token>` to every request (when it has one).
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A running service. Dropping it cancels the service.
pub struct TestApp {
    pub addr: SocketAddr,
    /// A bus in the service's namespace, for the test's own subscriptions.
    pub bus: Bus,
    /// Keeps the database alive as long as the service that uses it.
    _db: Arc<TestDatabase>,
    validator: JwtValidator,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<Result<(), RunError>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    spawn_app_on(Arc::new(TestDatabase::create().await), options).await
}

/// Starts a service on an existing database (a restart, in durability tests).
pub async fn spawn_app_on(db: Arc<TestDatabase>, options: AppOptions) -> TestApp {
    let namespace = Namespace::new(&options.namespace).expect("valid namespace");
    let validator = JwtValidator::new(&JwtKeys::Hs256(SecretString::from(SECRET.to_owned())))
        .expect("HS256 validator");
    let service_bus = Bus::connect(&options.nats_url, namespace.clone())
        .await
        .expect("service bus");
    let config = ListsConfig {
        lists_addr: "127.0.0.1:0".parse().expect("address"),
        database_url: SecretString::from(db.url()),
        db_max_connections: 5.try_into().expect("non-zero"),
        presence_timeout: options.presence_timeout,
        presence_sweep_interval: options.presence_sweep_interval,
        event_retention: RETENTION,
    };
    let app = ListsApp::build(&config, service_bus, validator.clone())
        .await
        .expect("service builds");
    let addr = app.local_addr();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let bus = Bus::connect(&options.nats_url, namespace)
        .await
        .expect("test bus");
    ensure_stream(&bus).await;
    TestApp {
        addr,
        bus,
        _db: db,
        validator,
        shutdown,
        handle: Some(handle),
    }
}

/// The stream must exist before a subscription; the service's relay creates
/// it too, but asynchronously. Retried while a just-restarted NATS comes up.
async fn ensure_stream(bus: &Bus) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match bus.ensure_stream(StreamKind::Lists, RETENTION).await {
            Ok(()) => return,
            Err(error) if tokio::time::Instant::now() < deadline => {
                eprintln!("stream not ready yet: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("cannot create the stream: {error}"),
        }
    }
}

impl TestApp {
    /// A client acting as `user`.
    pub async fn client(&self, user: &TestUser) -> Client {
        let token = self
            .validator
            .mint(&TokenRequest {
                sub: user.id,
                name: user.name.clone(),
                roles: vec![],
                exp: chrono::Utc::now().timestamp() + 3600,
            })
            .expect("mint");
        let value = format!("Bearer {token}").parse().expect("ascii header");
        self.client_with(Bearer(Some(value))).await
    }

    /// A client that sends no credential.
    pub async fn anonymous_client(&self) -> Client {
        self.client_with(Bearer(None)).await
    }

    pub async fn client_with(&self, bearer: Bearer) -> Client {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connects");
        ShoppingListsClient::with_interceptor(channel, bearer)
    }

    /// Every event of the list published from now on.
    pub async fn subscribe(&self, list_id: &str) -> Events {
        self.subscribe_from(list_id, StartAt::New).await
    }

    pub async fn subscribe_from(&self, list_id: &str, start: StartAt) -> Events {
        let topic = Topic::List(list_id.parse().expect("list id"));
        let deliveries = self.bus.subscribe(&topic, start).await.expect("subscribe");
        Events { deliveries }
    }

    /// Cancels the service and waits until it has stopped.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(PATIENCE, handle)
                .await
                .expect("service stops in time")
                .expect("service task")
                .expect("service ran cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A list's events as the bus delivers them.
pub struct Events {
    deliveries: Deliveries,
}

impl Events {
    pub async fn next(&mut self) -> EventEnvelope {
        let delivery = tokio::time::timeout(PATIENCE, self.deliveries.next())
            .await
            .expect("an event in time")
            .expect("subscription open")
            .expect("delivery");
        EventEnvelope::decode(delivery.payload).expect("an EventEnvelope")
    }

    /// The next event's payload, checking that it is the next in sequence.
    pub async fn expect(&mut self, sequence: u64) -> (EventEnvelope, Kind) {
        let envelope = self.next().await;
        assert_eq!(
            envelope.sequence, sequence,
            "unexpected sequence in {envelope:?}"
        );
        let kind = envelope
            .event
            .clone()
            .and_then(|event| event.kind)
            .expect("event has a payload");
        (envelope, kind)
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

/// Unwraps one event variant or fails naming what arrived instead.
#[macro_export]
macro_rules! expect_kind {
    ($kind:expr, $variant:ident) => {
        match $kind {
            pulse_proto::events::v1::event::Kind::$variant(payload) => payload,
            other => panic!("expected {}, got {other:?}", stringify!($variant)),
        }
    };
}

impl Bearer {
    /// A well-formed token signed with another secret.
    pub fn forged() -> Self {
        let other = JwtValidator::new(&JwtKeys::Hs256(SecretString::from(
            "another-secret".to_owned(),
        )))
        .expect("HS256 validator");
        let token = other
            .mint(&TokenRequest {
                sub: Uuid::new_v4(),
                name: "Mallory".into(),
                roles: vec![],
                exp: chrono::Utc::now().timestamp() + 3600,
            })
            .expect("mint");
        Bearer(Some(
            format!("Bearer {token}").parse().expect("ascii header"),
        ))
    }
}
