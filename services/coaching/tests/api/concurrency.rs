//! The same call from many connections at once (tabs behind gateways):
//! the database lets exactly one of them change anything, so there is
//! exactly one event.

use futures::future::join_all;
use pulse_proto::coaching::v1::{event::Kind, ListConversationsRequest};
use pulse_proto::coaching::{CHAT, NOTIFICATIONS};
use pulse_testkit::{expect_kind, TestUser};
use tonic::Code;

use crate::chat::{delete, mark};
use crate::helpers::{invitation, send, spawn_app_with, trainer};
use crate::relationships::relationships;

const CALLERS: usize = 20;

#[tokio::test]
async fn simultaneous_reads_of_one_message_send_one_receipt() {
    let app = spawn_app_with(10).await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let sent = send(&mut app.client(&ann).await, &bob, "Hi").await;
    let mut receipts = app.subscribe(CHAT.topic(ann.id)).await;
    let mut tabs = Vec::new();
    for _ in 0..CALLERS {
        tabs.push(app.client(&bob).await);
    }

    let outcomes = join_all(tabs.into_iter().map(|mut tab| {
        let request = mark(&sent.id);
        async move { tab.mark_as_read(request).await }
    }))
    .await;

    let read_ats: Vec<_> = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every mark succeeds").into_inner().read_at)
        .collect();
    let first = read_ats[0].clone().expect("read");
    assert!(
        read_ats
            .iter()
            .all(|at| at.as_deref() == Some(first.as_str())),
        "one readAt"
    );
    let receipt = expect_kind!(receipts.expect_to_everyone(1).await, MessageRead);
    assert_eq!(receipt.read_at, first);
    assert_eq!(app.sequence(CHAT.topic(ann.id)).await, 1, "one receipt");
}

#[tokio::test]
async fn simultaneous_deletions_of_one_message_delete_it_once() {
    let app = spawn_app_with(10).await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let sent = send(&mut app.client(&ann).await, &bob, "oops").await;
    let mut tabs = Vec::new();
    for _ in 0..CALLERS {
        tabs.push(app.client(&ann).await);
    }

    let outcomes = join_all(tabs.into_iter().map(|mut tab| {
        let request = delete(&sent.id);
        async move { tab.delete_message(request).await }
    }))
    .await;

    assert_eq!(outcomes.iter().filter(|outcome| outcome.is_ok()).count(), 1);
    for refused in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    }
    assert_eq!(app.sequence(CHAT.topic(ann.id)).await, 1);
    assert_eq!(
        app.sequence(CHAT.topic(bob.id)).await,
        2,
        "message and deletion"
    );
}

#[tokio::test]
async fn simultaneous_invitations_of_one_client_store_one_relationship() {
    let app = spawn_app_with(10).await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut tabs = Vec::new();
    for _ in 0..CALLERS {
        tabs.push(app.client(&tess).await);
    }

    let outcomes = join_all(tabs.into_iter().map(|mut tab| {
        let request = invitation(&carl, true);
        async move { tab.invite_client(request).await }
    }))
    .await;

    assert_eq!(outcomes.iter().filter(|outcome| outcome.is_ok()).count(), 1);
    for refused in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
        assert_eq!(
            refused.message(),
            "A relationship with this client already exists"
        );
    }
    assert_eq!(relationships(&mut app.client(&carl).await).await.len(), 1);
    assert_eq!(app.sequence(NOTIFICATIONS.topic(tess.id)).await, 1);
    assert_eq!(
        app.sequence(NOTIFICATIONS.topic(carl.id)).await,
        2,
        "one update and one notice"
    );
}

#[tokio::test]
async fn two_users_writing_first_at_once_share_one_conversation() {
    let app = spawn_app_with(10).await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut writers = Vec::new();
    for n in 0..CALLERS {
        let (from, to) = if n % 2 == 0 {
            (&ann, &bob)
        } else {
            (&bob, &ann)
        };
        writers.push((app.client(from).await, to.clone()));
    }

    join_all(
        writers
            .into_iter()
            .map(|(mut client, to)| async move { send(&mut client, &to, "hello").await }),
    )
    .await;

    let conversations = app
        .client(&ann)
        .await
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .conversations;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].unread_count, 10);
    let page = app
        .client(&bob)
        .await
        .get_conversation(crate::chat::conversation(&ann))
        .await
        .expect("history")
        .into_inner();
    assert_eq!(page.messages.len(), CALLERS);
}

#[tokio::test]
async fn two_users_deleting_messages_to_each_other_at_once_all_succeed() {
    let app = spawn_app_with(10).await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let mut deletions = Vec::new();
    for n in 0..CALLERS {
        let (from, to) = if n % 2 == 0 {
            (&ann, &bob)
        } else {
            (&bob, &ann)
        };
        let mut client = app.client(from).await;
        let sent = send(&mut client, to, "soon gone").await;
        deletions.push((client, sent.id));
    }

    let outcomes = join_all(
        deletions
            .into_iter()
            .map(|(mut client, id)| async move { client.delete_message(delete(&id)).await }),
    )
    .await;

    for outcome in outcomes {
        outcome.expect("no deadlock, no retry needed");
    }
    // Each side: ten messages received, twenty deletions announced.
    assert_eq!(app.sequence(CHAT.topic(ann.id)).await, 30);
    assert_eq!(app.sequence(CHAT.topic(bob.id)).await, 30);
}
