//! Chat refusals: each returns the contract's status code and text, stores
//! nothing and announces nothing.

use pulse_proto::coaching::v1::{
    ListConversationsRequest, ListRelationshipsRequest, SendMessageRequest,
};
use pulse_proto::coaching::CHAT;
use pulse_testkit::{assert_needs_bearer, assert_refused, TestUser};
use tonic::Code;

use crate::chat::{delete, mark};
use crate::helpers::{send, spawn_app};

fn message_to(to: &str, text: &str) -> SendMessageRequest {
    SendMessageRequest {
        recipient_id: to.into(),
        message: text.into(),
    }
}

#[tokio::test]
async fn invalid_messages_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut client = app.client(&ann).await;
    let to_bob = bob.id.to_string();

    let cases = [
        (message_to("bob", "Hi"), "Invalid recipientId"),
        (message_to("", "Hi"), "Invalid recipientId"),
        (message_to(&to_bob, ""), "Message cannot be empty"),
        (message_to(&to_bob, " \n\t "), "Message cannot be empty"),
        (
            message_to(&to_bob, &"a".repeat(4001)),
            "Message cannot exceed 4000 characters",
        ),
        (
            message_to(&to_bob, &"é".repeat(4001)),
            "Message cannot exceed 4000 characters",
        ),
        (
            message_to(&ann.id.to_string(), "Hi me"),
            "Cannot send a message to yourself",
        ),
    ];
    for (request, message) in cases {
        let refused = client.send_message(request).await.expect_err(message);
        assert_refused(&refused, Code::InvalidArgument, message);
    }

    let conversations = client
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .conversations;
    assert!(conversations.is_empty());
    assert_eq!(app.sequence(CHAT.topic(bob.id)).await, 0);
    assert_eq!(app.sequence(CHAT.topic(ann.id)).await, 0);
}

#[tokio::test]
async fn only_the_recipient_marks_read_and_only_the_sender_deletes() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        TestUser::new("Ann"),
        TestUser::new("Bob"),
        TestUser::new("Eve"),
    );
    let mut sender = app.client(&ann).await;
    let mut recipient = app.client(&bob).await;
    let mut stranger = app.client(&eve).await;
    let sent = send(&mut sender, &bob, "Hi").await;

    let refusals = [
        sender.mark_as_read(mark(&sent.id)).await.map(|_| ()),
        stranger.mark_as_read(mark(&sent.id)).await.map(|_| ()),
        recipient.delete_message(delete(&sent.id)).await.map(|_| ()),
        stranger.delete_message(delete(&sent.id)).await.map(|_| ()),
    ];

    for refused in refusals {
        assert_refused(
            &refused.expect_err("refused"),
            Code::PermissionDenied,
            "Not authorized",
        );
    }
    let page = recipient
        .get_conversation(crate::chat::conversation(&ann))
        .await
        .expect("history")
        .into_inner();
    assert_eq!(page.messages, [sent], "still there, still unread");
    assert_eq!(
        app.sequence(CHAT.topic(ann.id)).await,
        0,
        "no receipt, no deletion"
    );
    assert_eq!(
        app.sequence(CHAT.topic(bob.id)).await,
        1,
        "only the message"
    );
}

#[tokio::test]
async fn unknown_or_malformed_message_ids_are_refused() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let read_unknown = client
        .mark_as_read(mark(&unknown))
        .await
        .expect_err("unknown");
    let delete_unknown = client
        .delete_message(delete(&unknown))
        .await
        .expect_err("unknown");
    let read_malformed = client
        .mark_as_read(mark("42"))
        .await
        .expect_err("malformed");
    let delete_malformed = client
        .delete_message(delete("42"))
        .await
        .expect_err("malformed");

    assert_refused(&read_unknown, Code::NotFound, "Message not found");
    assert_refused(&delete_unknown, Code::NotFound, "Message not found");
    assert_refused(&read_malformed, Code::InvalidArgument, "Invalid messageId");
    assert_refused(
        &delete_malformed,
        Code::InvalidArgument,
        "Invalid messageId",
    );
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let app = spawn_app().await;

    let mut anonymous = app.anonymous_client().await;

    assert_needs_bearer(anonymous.list_relationships(ListRelationshipsRequest {})).await;
}
