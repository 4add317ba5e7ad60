//! The test harness: a running service on 127.0.0.1:0 with its own database
//! and bus namespace, gRPC clients acting as given users, and a subscription
//! to a session's events as a gateway would hold it.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures::StreamExt;
use prost::Message;
use pulse_auth::{JwtKeys, JwtValidator, TokenRequest};
use pulse_bus::{Bus, Deliveries, Namespace, StartAt, StreamKind, Topic as BusTopic};
use pulse_lean_coffee::{LeanCoffeeApp, LeanCoffeeConfig, RunError};
use pulse_proto::events::v1::{event::Kind, EventEnvelope};
use pulse_proto::leancoffee::v1::lean_coffee_client::LeanCoffeeClient;
use pulse_proto::leancoffee::v1::{
    AddTopicRequest, ChangeSessionStatusRequest, CreateSessionRequest, GetSessionRequest, NewTopic,
    ParticipationRequest, Session, SessionSnapshot, Topic, VoteRequest,
};
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
const SECRET: &str = "lean-coffee-test-secret";

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
    pub participant_timeout: Duration,
    pub participant_sweep_interval: Duration,
    /// Database connections of the service; concurrency tests queue many
    /// more transactions than this.
    pub db_max_connections: u32,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            participant_timeout: Duration::from_secs(45),
            participant_sweep_interval: Duration::from_secs(5),
            db_max_connections: 5,
        }
    }
}

pub type Client = LeanCoffeeClient<InterceptedService<Channel, Bearer>>;

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
    let db = Arc::new(TestDatabase::create().await);
    let nats_url = pulse_testkit::shared_nats_url();
    let namespace = Namespace::new(&pulse_testkit::unique_namespace()).expect("valid namespace");
    let validator = JwtValidator::new(&JwtKeys::Hs256(SecretString::from(SECRET.to_owned())))
        .expect("HS256 validator");
    let service_bus = Bus::connect(&nats_url, namespace.clone())
        .await
        .expect("service bus");
    let config = LeanCoffeeConfig {
        lean_coffee_addr: "127.0.0.1:0".parse().expect("address"),
        lean_coffee_database_url: SecretString::from(db.url()),
        lean_coffee_db_max_connections: options.db_max_connections.try_into().expect("non-zero"),
        participant_timeout: options.participant_timeout,
        participant_sweep_interval: options.participant_sweep_interval,
        event_retention: RETENTION,
    };
    let app = LeanCoffeeApp::build(&config, service_bus, validator.clone())
        .await
        .expect("service builds");
    let addr = app.local_addr();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let bus = Bus::connect(&nats_url, namespace).await.expect("test bus");
    // The stream must exist before a subscription; the relay creates it too,
    // but asynchronously.
    bus.ensure_stream(StreamKind::Sessions, RETENTION)
        .await
        .expect("stream");
    TestApp {
        addr,
        bus,
        _db: db,
        validator,
        shutdown,
        handle: Some(handle),
    }
}

impl TestApp {
    /// A client acting as `user`, on a connection of its own.
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

    async fn client_with(&self, bearer: Bearer) -> Client {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connects");
        LeanCoffeeClient::with_interceptor(channel, bearer)
    }

    /// Every event of the session published from now on.
    pub async fn subscribe(&self, session_id: &str) -> Events {
        let topic = BusTopic::Session(session_id.parse().expect("session id"));
        let deliveries = self
            .bus
            .subscribe(&topic, StartAt::New)
            .await
            .expect("subscribe");
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

/// A session's events as the bus delivers them.
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

/// Creates a session facilitated by `client`'s user.
pub async fn create_session(client: &mut Client, title: &str) -> Session {
    client
        .create_session(CreateSessionRequest {
            title: title.into(),
            description: None,
            scheduled_start_time: None,
        })
        .await
        .expect("session created")
        .into_inner()
}

pub fn add_request(session_id: &str, title: &str) -> AddTopicRequest {
    AddTopicRequest {
        session_id: session_id.into(),
        topic: Some(NewTopic {
            title: title.into(),
            description: None,
        }),
    }
}

pub async fn add_topic(client: &mut Client, session_id: &str, title: &str) -> Topic {
    client
        .add_topic(add_request(session_id, title))
        .await
        .expect("topic added")
        .into_inner()
}

pub fn vote(session_id: &str, topic_id: &str) -> VoteRequest {
    VoteRequest {
        session_id: session_id.into(),
        topic_id: topic_id.into(),
    }
}

pub fn status(session_id: &str, status: &str) -> ChangeSessionStatusRequest {
    ChangeSessionStatusRequest {
        session_id: session_id.into(),
        status: status.into(),
    }
}

pub fn connection(session_id: &str, id: &str) -> ParticipationRequest {
    ParticipationRequest {
        session_id: session_id.into(),
        connection_id: id.into(),
    }
}

pub async fn snapshot(client: &mut Client, session_id: &str) -> SessionSnapshot {
    client
        .get_session(GetSessionRequest {
            session_id: session_id.into(),
        })
        .await
        .expect("snapshot")
        .into_inner()
}
