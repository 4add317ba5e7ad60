//! User-targeted delivery (SignalR's `Clients.User`): an event for a user
//! reaches every connection that user has on the matching hub, on every
//! gateway, once — and no other user's, and not the user's connections on
//! other hubs. Events are published on the bus the way the coaching service's
//! outbox relay does.

use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use pulse_proto::coaching::{CHAT, GOALS};
use pulse_proto::{
    coaching::v1::{event::Kind, ChatMessage},
    events::v1::{Event, EventEnvelope},
};
use serde_json::json;

use crate::helpers::{RawClient, TestSuite, User};

const RETENTION: Duration = Duration::from_secs(3600);
const QUIET: Duration = Duration::from_millis(400);

async fn publish_chat(
    suite: &TestSuite,
    recipient: &User,
    sequence: u64,
    text: &str,
) -> ChatMessage {
    let message = ChatMessage {
        id: uuid::Uuid::new_v4().to_string(),
        sender_id: uuid::Uuid::new_v4().to_string(),
        recipient_id: recipient.id.to_string(),
        message: text.into(),
        sent_at: "2026-11-23T10:00:00.000Z".into(),
        read_at: None,
    };
    let topic = CHAT.topic(recipient.id);
    let envelope = EventEnvelope {
        group: topic.group(),
        sequence,
        occurred_at: message.sent_at.clone(),
        except_user_id: None,
        event: Some(Event::from(Kind::ReceiveMessage(message.clone()))),
    };
    suite
        .bus()
        .publish(
            &topic,
            &format!("{}:{sequence}", topic.group()),
            Bytes::from(envelope.encode_to_vec()),
        )
        .await
        .expect("publish");
    message
}

#[tokio::test]
async fn an_event_for_a_user_reaches_all_their_chat_connections_on_every_gateway_once() {
    let mut suite = TestSuite::start().await;
    for kind in [CHAT.kind(), GOALS.kind()] {
        suite
            .bus()
            .ensure_stream(kind, RETENTION)
            .await
            .expect("stream");
    }
    let second_gateway = suite.start_extra_gateway().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let (ann_token, bob_token) = (suite.token(&ann), suite.token(&bob));
    let mut ann_tabs = vec![
        RawClient::connect_to(suite.gateway, "/hubs/chat", &ann_token).await,
        RawClient::connect_to(suite.gateway, "/hubs/chat", &ann_token).await,
        RawClient::connect_to(second_gateway, "/hubs/chat", &ann_token).await,
    ];
    let mut ann_goals = RawClient::connect_to(second_gateway, "/hubs/goals", &ann_token).await;
    let mut bob_chat = RawClient::connect_to(suite.gateway, "/hubs/chat", &bob_token).await;

    let message = publish_chat(&suite, &ann, 1, "Hi Ann").await;

    let mut expected = serde_json::to_value(&message).expect("json");
    expected["sequence"] = json!(1);
    for tab in &mut ann_tabs {
        assert_eq!(tab.event("ReceiveMessage").await, expected);
    }
    for tab in &mut ann_tabs {
        tab.expect_no_event(QUIET).await;
    }
    ann_goals.expect_no_event(QUIET).await;
    bob_chat.expect_no_event(QUIET).await;
    suite.stop().await;
}
