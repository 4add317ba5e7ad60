//! Chat: delivery to the recipient's group, history, read receipts and
//! deletion, each event once and to the right user.

use pulse_proto::coaching::v1::{
    event::Kind, DeleteMessageRequest, GetConversationRequest, ListConversationsRequest,
    MarkAsReadRequest,
};
use pulse_proto::coaching::CHAT;
use pulse_testkit::{assert_refused, expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{send, spawn_app, Client};

pub fn conversation(with: &TestUser) -> GetConversationRequest {
    GetConversationRequest {
        user_id: with.id.to_string(),
        before: None,
        limit: None,
    }
}

pub fn mark(message_id: &str) -> MarkAsReadRequest {
    MarkAsReadRequest {
        message_id: message_id.into(),
    }
}

pub fn delete(message_id: &str) -> DeleteMessageRequest {
    DeleteMessageRequest {
        message_id: message_id.into(),
    }
}

pub async fn history(client: &mut Client, with: &TestUser) -> Vec<String> {
    client
        .get_conversation(conversation(with))
        .await
        .expect("conversation")
        .into_inner()
        .messages
        .into_iter()
        .map(|message| message.message)
        .collect()
}

#[tokio::test]
async fn a_message_goes_to_the_recipients_chat_group_once() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut sender = app.client(&ann).await;
    let mut inbox = app.subscribe(CHAT.topic(bob.id)).await;

    let sent = send(&mut sender, &bob, "Hi Bob").await;

    assert_eq!(sent.sender_id, ann.id.to_string());
    assert_eq!(sent.recipient_id, bob.id.to_string());
    assert_eq!(
        (sent.message.as_str(), sent.read_at.as_deref()),
        ("Hi Bob", None)
    );
    assert!(sent.sent_at.ends_with('Z'));
    let received = expect_kind!(inbox.expect_to_everyone(1).await, ReceiveMessage);
    assert_eq!(received, sent, "the event is the stored message");
    assert_eq!(app.sequence(CHAT.topic(bob.id)).await, 1, "exactly once");
    assert_eq!(
        app.sequence(CHAT.topic(ann.id)).await,
        0,
        "not to the sender"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_message_to_someone_offline_is_in_their_history() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut sender = app.client(&ann).await;

    let sent = send(&mut sender, &bob, "Are you there?").await;

    let mut recipient = app.client(&bob).await;
    let page = recipient
        .get_conversation(conversation(&ann))
        .await
        .expect("history")
        .into_inner();
    assert_eq!(page.messages, std::slice::from_ref(&sent));
    assert_eq!(page.next_before, None);
    let conversations = recipient
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .conversations;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].user_id, ann.id.to_string());
    assert_eq!(conversations[0].last_message.as_ref(), Some(&sent));
    assert_eq!(conversations[0].unread_count, 1);
}

#[tokio::test]
async fn a_message_is_stored_exactly_as_sent() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut sender = app.client(&ann).await;

    let sent = send(&mut sender, &bob, "  indented\nsecond line ").await;
    let longest = send(&mut sender, &bob, &"é".repeat(4000)).await;

    assert_eq!(sent.message, "  indented\nsecond line ");
    assert_eq!(longest.message.chars().count(), 4000);
    assert_eq!(
        history(&mut app.client(&bob).await, &ann).await,
        ["é".repeat(4000), "  indented\nsecond line ".to_owned()]
    );
}

#[tokio::test]
async fn reading_a_message_tells_the_sender_once() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut sender = app.client(&ann).await;
    let mut recipient = app.client(&bob).await;
    let mut receipts = app.subscribe(CHAT.topic(ann.id)).await;
    let sent = send(&mut sender, &bob, "Hi").await;

    let read = recipient
        .mark_as_read(mark(&sent.id))
        .await
        .expect("read")
        .into_inner();
    let again = recipient
        .mark_as_read(mark(&sent.id))
        .await
        .expect("read again")
        .into_inner();

    let read_at = read.read_at.clone().expect("readAt set");
    assert_eq!(
        (read.id.as_str(), read.message.as_str()),
        (sent.id.as_str(), "Hi")
    );
    assert_eq!(again, read, "a second mark changes nothing");
    let receipt = expect_kind!(receipts.expect_to_everyone(1).await, MessageRead);
    assert_eq!(
        (receipt.message_id, receipt.read_at),
        (sent.id.clone(), read_at)
    );
    assert_eq!(app.sequence(CHAT.topic(ann.id)).await, 1, "one receipt");
    assert_eq!(
        app.sequence(CHAT.topic(bob.id)).await,
        1,
        "only the message"
    );
    let conversations = recipient
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .conversations;
    assert_eq!(conversations[0].unread_count, 0);
}

#[tokio::test]
async fn the_sender_deletes_a_message_from_both_histories() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut sender = app.client(&ann).await;
    let mut recipient = app.client(&bob).await;
    let mut ann_chat = app.subscribe(CHAT.topic(ann.id)).await;
    let mut bob_chat = app.subscribe(CHAT.topic(bob.id)).await;
    let kept = send(&mut sender, &bob, "keep").await;
    let oops = send(&mut sender, &bob, "oops").await;
    expect_kind!(bob_chat.expect_to_everyone(1).await, ReceiveMessage);
    expect_kind!(bob_chat.expect_to_everyone(2).await, ReceiveMessage);

    let deleted = sender
        .delete_message(delete(&oops.id))
        .await
        .expect("deleted")
        .into_inner();

    assert_eq!(deleted.message_id, oops.id);
    let to_sender = expect_kind!(ann_chat.expect_to_everyone(1).await, MessageDeleted);
    let to_recipient = expect_kind!(bob_chat.expect_to_everyone(3).await, MessageDeleted);
    assert_eq!(to_sender, to_recipient);
    assert_eq!(to_sender.message_id, oops.id);
    assert!(to_sender.deleted_at.ends_with('Z'));
    assert_eq!(history(&mut sender, &bob).await, ["keep"]);
    assert_eq!(history(&mut recipient, &ann).await, ["keep"]);
    let conversations = recipient
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .conversations;
    assert_eq!(conversations[0].last_message.as_ref(), Some(&kept));
    assert_eq!(
        conversations[0].unread_count, 1,
        "the deleted one is not counted"
    );

    let read_deleted = recipient
        .mark_as_read(mark(&oops.id))
        .await
        .expect_err("gone");
    let delete_again = sender
        .delete_message(delete(&oops.id))
        .await
        .expect_err("gone");
    assert_refused(&read_deleted, Code::NotFound, "Message not found");
    assert_refused(&delete_again, Code::NotFound, "Message not found");
    assert_eq!(app.sequence(CHAT.topic(ann.id)).await, 1);
    assert_eq!(app.sequence(CHAT.topic(bob.id)).await, 3);
}

#[tokio::test]
async fn a_conversation_whose_messages_were_all_deleted_is_not_listed() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut sender = app.client(&ann).await;
    let only = send(&mut sender, &bob, "nothing to see").await;

    sender
        .delete_message(delete(&only.id))
        .await
        .expect("deleted");

    let conversations = sender
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .conversations;
    assert!(conversations.is_empty());
}

#[tokio::test]
async fn conversations_are_listed_most_recently_active_first() {
    let app = spawn_app().await;
    let (ann, bob, cleo) = (
        TestUser::new("Ann"),
        TestUser::new("Bob"),
        TestUser::new("Cleo"),
    );
    let mut me = app.client(&ann).await;
    send(&mut me, &bob, "to Bob").await;
    let from_cleo = send(&mut app.client(&cleo).await, &ann, "from Cleo").await;
    let latest = send(&mut app.client(&bob).await, &ann, "Bob again").await;

    let conversations = me
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .conversations;

    let summary: Vec<_> = conversations
        .iter()
        .map(|c| (c.user_id.clone(), c.last_message.clone(), c.unread_count))
        .collect();
    assert_eq!(
        summary,
        [
            (bob.id.to_string(), Some(latest), 1),
            (cleo.id.to_string(), Some(from_cleo), 1),
        ]
    );
}
