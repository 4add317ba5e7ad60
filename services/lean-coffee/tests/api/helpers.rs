//! The test harness: a running service on 127.0.0.1:0 with its own database
//! and bus namespace, gRPC clients acting as given users, and a subscription
//! to a session's events as a gateway would hold it. The parts every
//! service's tests share are in `pulse-testkit`.

use std::{net::SocketAddr, time::Duration};

use pulse_bus::StartAt;
use pulse_lean_coffee::{LeanCoffee, LeanCoffeeConfig};
use pulse_proto::leancoffee::v1::lean_coffee_client::LeanCoffeeClient;
use pulse_proto::leancoffee::v1::{
    AddTopicRequest, ChangeSessionStatusRequest, CreateSessionRequest, GetSessionRequest,
    ListActiveParticipantsRequest, NewTopic, Participant, ParticipationRequest, Session,
    SessionSnapshot, Topic, VoteRequest,
};
use pulse_proto::leancoffee::SESSION;
use pulse_testkit::{Authorized, Bearer, Events, TestEnv, TestService, TestUser};
use secrecy::SecretString;

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

pub type Client = LeanCoffeeClient<Authorized>;

/// A running service. Dropping it cancels the service.
pub struct TestApp {
    service: TestService,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let env = TestEnv::new().await;
    let config = LeanCoffeeConfig {
        lean_coffee_addr: "127.0.0.1:0".parse().expect("address"),
        lean_coffee_database_url: SecretString::from(env.db.url()),
        lean_coffee_db_max_connections: options.db_max_connections.try_into().expect("non-zero"),
        participant_timeout: options.participant_timeout,
        participant_sweep_interval: options.participant_sweep_interval,
    };
    let validator = pulse_testkit::jwt_validator();
    let service = TestService::start::<LeanCoffee>(env, &config, validator).await;
    TestApp { service }
}

impl TestApp {
    /// The service's address, for clients sharing one connection.
    pub fn addr(&self) -> SocketAddr {
        self.service.addr()
    }

    /// The service's database, for checks and counts the API does not offer.
    pub fn database_url(&self) -> String {
        self.service.env().db.url()
    }

    /// A client acting as `user`, on a connection of its own.
    pub async fn client(&self, user: &TestUser) -> Client {
        LeanCoffeeClient::new(self.service.channel(user.bearer()).await)
    }

    /// A client that sends no credential.
    pub async fn anonymous_client(&self) -> Client {
        LeanCoffeeClient::new(self.service.channel(Bearer::new(None)).await)
    }

    /// Every event of the session published from now on.
    pub async fn subscribe(&self, session_id: &str) -> Events {
        let topic = SESSION.topic(session_id.parse().expect("session id"));
        self.service.env().subscribe(&topic, StartAt::New).await
    }

    /// Cancels the service and waits until it has stopped.
    pub async fn stop(self) {
        self.service.stop().await;
    }
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

/// The session's active participants, in the order they joined.
pub async fn active_participants(client: &mut Client, session_id: &str) -> Vec<Participant> {
    client
        .list_active_participants(ListActiveParticipantsRequest {
            session_id: session_id.into(),
        })
        .await
        .expect("participants")
        .into_inner()
        .participants
}
