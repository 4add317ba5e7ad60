//! The test harness: a running service on 127.0.0.1:0 with its own database
//! and bus namespace, gRPC clients acting as given users (with roles), and
//! subscriptions to users' groups as a gateway would hold them. The parts
//! every service's tests share are in `pulse-testkit`.

use pulse_bus::{StartAt, Topic};
use pulse_coaching::{Coaching, CoachingConfig};
use pulse_proto::coaching::v1::coaching_client::CoachingClient;
use pulse_proto::coaching::v1::{
    AssignGoalRequest, ChatMessage, Goal, GoalInput, InviteClientRequest, Relationship,
    RelationshipRequest, SendMessageRequest,
};
use pulse_testkit::{Authorized, Bearer, Events, TestEnv, TestService, TestUser};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection};

/// A user the service lets coach: one with the `trainer` role.
pub fn trainer(name: &str) -> TestUser {
    TestUser::with_role(name, "trainer")
}

pub type Client = CoachingClient<Authorized>;

/// A running service. Dropping it cancels the service.
pub struct TestApp {
    service: TestService,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(5).await
}

/// A service with `db_max_connections` connections to its database;
/// concurrency tests queue many more transactions than that.
pub async fn spawn_app_with(db_max_connections: u32) -> TestApp {
    let env = TestEnv::new().await;
    let config = CoachingConfig {
        coaching_addr: "127.0.0.1:0".parse().expect("address"),
        coaching_database_url: SecretString::from(env.db.url()),
        coaching_db_max_connections: db_max_connections.try_into().expect("non-zero"),
    };
    let validator = pulse_testkit::jwt_validator();
    let service = TestService::start::<Coaching>(env, &config, validator).await;
    TestApp { service }
}

impl TestApp {
    /// A client acting as `user` (with their roles), on a connection of
    /// its own.
    pub async fn client(&self, user: &TestUser) -> Client {
        CoachingClient::new(self.service.channel(user.bearer()).await)
    }

    /// A client that sends no credential.
    pub async fn anonymous_client(&self) -> Client {
        CoachingClient::new(self.service.channel(Bearer::new(None)).await)
    }

    /// Every event of the group published from now on.
    pub async fn subscribe(&self, topic: Topic) -> Events {
        self.service.env().subscribe(&topic, StartAt::New).await
    }

    /// How many events the group has had (committed to the outbox). A call
    /// that returned has committed, so this is exact, with no waiting.
    pub async fn sequence(&self, topic: Topic) -> u64 {
        self.service.env().outbox_sequence(&topic).await
    }

    /// A direct connection to the service's database, for what the API
    /// cannot arrange (messages sharing one timestamp).
    pub async fn db_connection(&self) -> PgConnection {
        PgConnection::connect(&self.service.env().db.url())
            .await
            .expect("database connection")
    }

    /// Cancels the service and waits until it has stopped.
    pub async fn stop(self) {
        self.service.stop().await;
    }
}

pub async fn send(client: &mut Client, to: &TestUser, text: &str) -> ChatMessage {
    client
        .send_message(SendMessageRequest {
            recipient_id: to.id.to_string(),
            message: text.into(),
        })
        .await
        .expect("message sent")
        .into_inner()
}

pub fn invitation(client: &TestUser, can_edit_goals: bool) -> InviteClientRequest {
    InviteClientRequest {
        client_id: client.id.to_string(),
        can_edit_goals,
    }
}

pub fn relationship(id: &str) -> RelationshipRequest {
    RelationshipRequest {
        relationship_id: id.into(),
    }
}

/// An Active relationship between the two, with the given permission.
pub async fn activate(
    trainer: &mut Client,
    client: &mut Client,
    client_user: &TestUser,
    can_edit_goals: bool,
) -> Relationship {
    let invited = trainer
        .invite_client(invitation(client_user, can_edit_goals))
        .await
        .expect("invited")
        .into_inner();
    client
        .accept_invitation(relationship(&invited.id))
        .await
        .expect("accepted")
        .into_inner()
}

pub fn goal_input(goal_type: &str) -> GoalInput {
    GoalInput {
        r#type: goal_type.into(),
        target_calories: Some(1800),
        target_protein_grams: Some(140),
        target_carbs_grams: None,
        target_fat_grams: None,
        target_date: Some("2030-06-30".into()),
    }
}

pub fn assignment(client: &TestUser, goal: GoalInput) -> AssignGoalRequest {
    AssignGoalRequest {
        client_id: client.id.to_string(),
        goal: Some(goal),
    }
}

pub async fn assign(trainer: &mut Client, client: &TestUser, goal_type: &str) -> Goal {
    trainer
        .assign_goal(assignment(client, goal_input(goal_type)))
        .await
        .expect("goal assigned")
        .into_inner()
}
