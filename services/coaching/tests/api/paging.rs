//! Conversation history, one page at a time, newest first, keyed by
//! (sentAt, id): no message is skipped or repeated across page boundaries,
//! even when many share one timestamp.

use std::collections::HashSet;

use pulse_proto::coaching::v1::{ChatMessage, GetConversationRequest};
use pulse_testkit::{assert_refused, TestUser};
use tonic::Code;

use crate::chat::delete;
use crate::helpers::{send, spawn_app, Client, TestApp};

fn page_request(
    with: &TestUser,
    before: Option<String>,
    limit: Option<u32>,
) -> GetConversationRequest {
    GetConversationRequest {
        user_id: with.id.to_string(),
        before,
        limit,
    }
}

/// Every page with `limit`, following `nextBefore` to the end.
async fn all_pages(client: &mut Client, with: &TestUser, limit: u32) -> Vec<Vec<ChatMessage>> {
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = client
            .get_conversation(page_request(with, before, Some(limit)))
            .await
            .expect("page")
            .into_inner();
        pages.push(page.messages);
        match page.next_before {
            Some(next) => before = Some(next),
            None => return pages,
        }
    }
}

/// `count` messages alternating between the two users.
async fn chat(app: &TestApp, ann: &TestUser, bob: &TestUser, count: usize) -> Vec<ChatMessage> {
    let mut clients = [app.client(ann).await, app.client(bob).await];
    let mut sent = Vec::new();
    for n in 0..count {
        let to = if n % 2 == 0 { bob } else { ann };
        sent.push(send(&mut clients[n % 2], to, &format!("message {n}")).await);
    }
    sent
}

#[tokio::test]
async fn pages_of_messages_sharing_one_timestamp_have_no_gaps_or_repeats() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    chat(&app, &ann, &bob, 25).await;
    sqlx::query("UPDATE chat_messages SET sent_at = '2030-01-01T12:00:00Z'")
        .execute(&mut app.db_connection().await)
        .await
        .expect("same timestamp");
    let mut client = app.client(&ann).await;
    let mut expected = client
        .get_conversation(page_request(&bob, None, Some(200)))
        .await
        .expect("everything")
        .into_inner()
        .messages;
    expected
        .sort_by_key(|message| std::cmp::Reverse(message.id.parse::<uuid::Uuid>().expect("uuid")));

    let pages = all_pages(&mut client, &bob, 7).await;

    let sizes: Vec<_> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [7, 7, 7, 4]);
    let paged: Vec<_> = pages.into_iter().flatten().collect();
    assert_eq!(paged.len(), 25);
    let distinct: HashSet<_> = paged.iter().map(|m| m.id.clone()).collect();
    assert_eq!(distinct.len(), 25, "no repeats");
    assert_eq!(paged, expected, "newest first, ties by id, descending");
}

#[tokio::test]
async fn pages_run_newest_first_across_both_senders() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let sent = chat(&app, &ann, &bob, 14).await;
    let newest_first: Vec<_> = sent.into_iter().rev().collect();

    let pages = all_pages(&mut app.client(&bob).await, &ann, 7).await;

    assert_eq!(
        pages.len(),
        2,
        "no empty third page when the second is exactly full"
    );
    assert_eq!(pages.concat(), newest_first);
}

#[tokio::test]
async fn the_default_page_holds_fifty_messages() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let sent = chat(&app, &ann, &bob, 51).await;

    let page = app
        .client(&ann)
        .await
        .get_conversation(page_request(&bob, None, None))
        .await
        .expect("page")
        .into_inner();

    assert_eq!(page.messages.len(), 50);
    assert_eq!(page.messages[0], sent[50]);
    assert_eq!(page.next_before.as_deref(), Some(sent[1].id.as_str()));
}

#[tokio::test]
async fn a_cursor_deleted_since_its_page_still_leads_to_the_next_one() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));
    let sent = chat(&app, &ann, &bob, 5).await;
    let mut client = app.client(&ann).await;
    let first = client
        .get_conversation(page_request(&bob, None, Some(2)))
        .await
        .expect("first page")
        .into_inner();
    let cursor = first.next_before.expect("more");
    assert_eq!(cursor, sent[3].id);
    assert_eq!(
        sent[3].sender_id,
        bob.id.to_string(),
        "odd messages are Bob's"
    );
    app.client(&bob)
        .await
        .delete_message(delete(&cursor))
        .await
        .expect("deleted by its sender");

    let second = client
        .get_conversation(page_request(&bob, Some(cursor), Some(2)))
        .await
        .expect("second page")
        .into_inner();

    assert_eq!(second.messages, [sent[2].clone(), sent[1].clone()]);
}

#[tokio::test]
async fn bad_cursors_and_limits_are_invalid_arguments() {
    let app = spawn_app().await;
    let (ann, bob, cleo) = (
        TestUser::new("Ann"),
        TestUser::new("Bob"),
        TestUser::new("Cleo"),
    );
    let elsewhere = send(&mut app.client(&ann).await, &cleo, "to Cleo").await;
    send(&mut app.client(&ann).await, &bob, "to Bob").await;
    let mut client = app.client(&ann).await;

    let foreign = client
        .get_conversation(page_request(&bob, Some(elsewhere.id.clone()), None))
        .await
        .expect_err("another conversation's message");
    let unknown = client
        .get_conversation(page_request(
            &bob,
            Some(uuid::Uuid::new_v4().to_string()),
            None,
        ))
        .await
        .expect_err("no such message");
    let no_conversation = client
        .get_conversation(page_request(
            &TestUser::new("Dan"),
            Some(elsewhere.id),
            None,
        ))
        .await
        .expect_err("no conversation at all");
    let malformed = client
        .get_conversation(page_request(&bob, Some("yesterday".into()), None))
        .await
        .expect_err("not an id");
    let bad_user = client
        .get_conversation(GetConversationRequest {
            user_id: "bob".into(),
            before: None,
            limit: None,
        })
        .await
        .expect_err("not an id");

    for refused in [&foreign, &unknown, &no_conversation] {
        assert_refused(
            refused,
            Code::InvalidArgument,
            "before is not a message of this conversation",
        );
    }
    assert_refused(&malformed, Code::InvalidArgument, "Invalid before");
    assert_refused(&bad_user, Code::InvalidArgument, "Invalid userId");
    for limit in [0, 201] {
        let refused = client
            .get_conversation(page_request(&bob, None, Some(limit)))
            .await
            .expect_err("limit out of range");
        assert_refused(
            &refused,
            Code::InvalidArgument,
            "limit must be between 1 and 200",
        );
    }
    let largest = client
        .get_conversation(page_request(&bob, None, Some(200)))
        .await
        .expect("200 is fine")
        .into_inner();
    assert_eq!(largest.messages.len(), 1);
}

#[tokio::test]
async fn a_conversation_never_started_is_an_empty_last_page() {
    let app = spawn_app().await;
    let (ann, bob) = (TestUser::new("Ann"), TestUser::new("Bob"));

    let page = app
        .client(&ann)
        .await
        .get_conversation(page_request(&bob, None, None))
        .await
        .expect("page")
        .into_inner();

    assert!(page.messages.is_empty());
    assert_eq!(page.next_before, None);
}
