//! A NUL character, the one PostgreSQL text cannot hold, is refused in every
//! text the service stores, with INVALID_ARGUMENT naming the field: nothing
//! is written and nothing announced (the next accepted change takes the very
//! next sequence number), where letting it through would fail in the
//! database as an internal error.

use pulse_proto::leancoffee::v1::{
    AddTopicRequest, CreateSessionRequest, ListSessionsRequest, NewTopic,
};
use pulse_testkit::{assert_refused, expect_kind, TestUser};
use tonic::{Code, Status};

use crate::helpers::{add_request, add_topic, connection, create_session, snapshot, spawn_app};
use crate::topics::edit;

/// Text PostgreSQL cannot store: it holds every character but NUL.
const NUL: &str = "free\0range";

fn assert_nul_refused(status: &Status, field: &str) {
    let message = format!("{field} cannot contain NUL characters");
    assert_refused(status, Code::InvalidArgument, &message);
}

fn new_session(title: &str, description: Option<&str>) -> CreateSessionRequest {
    CreateSessionRequest {
        title: title.into(),
        description: description.map(Into::into),
        scheduled_start_time: None,
    }
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut client, "Retro").await;
    let topic = add_topic(&mut client, &session.id, "Deploys").await;
    let before = snapshot(&mut client, &session.id).await;
    let mut events = app.subscribe(&session.id).await;

    let sessions = [
        ("title", new_session(NUL, None)),
        ("description", new_session("Planning", Some(NUL))),
    ];
    for (field, request) in sessions {
        let refused = client.create_session(request).await.expect_err(field);
        assert_nul_refused(&refused, field);
    }
    let topics = [
        ("title", (NUL, None)),
        ("description", ("Tests", Some(NUL))),
    ];
    for (field, (title, description)) in topics {
        let refused = client
            .add_topic(AddTopicRequest {
                session_id: session.id.clone(),
                topic: Some(NewTopic {
                    title: title.into(),
                    description: description.map(Into::into),
                }),
            })
            .await
            .expect_err(field);
        assert_nul_refused(&refused, field);
    }
    let edits = [
        ("title", edit(&session.id, &topic.id, Some(NUL), None)),
        ("description", edit(&session.id, &topic.id, None, Some(NUL))),
    ];
    for (field, request) in edits {
        let refused = client.edit_topic(request).await.expect_err(field);
        assert_nul_refused(&refused, field);
    }
    let participation = [
        client
            .enter_session(connection(&session.id, NUL))
            .await
            .map(|_| ()),
        client
            .touch_session(connection(&session.id, NUL))
            .await
            .map(|_| ()),
        client
            .exit_session(connection(&session.id, NUL))
            .await
            .map(|_| ()),
    ];
    for outcome in participation {
        assert_nul_refused(&outcome.expect_err("connectionId"), "connectionId");
    }

    let sessions = client
        .list_sessions(ListSessionsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .sessions;
    assert_eq!(
        sessions,
        std::slice::from_ref(&session),
        "no session was created"
    );
    assert_eq!(
        snapshot(&mut client, &session.id).await,
        before,
        "nothing changed"
    );
    add_topic(&mut client, &session.id, "Tests").await;
    expect_kind!(events.expect(before.sequence + 1).await, TopicAdded);
}

#[tokio::test]
async fn a_token_name_with_a_nul_character_is_refused_and_never_stored() {
    let app = spawn_app().await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let mut refused = app.client(&TestUser::new("Mal\0lory")).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;

    let proposed = refused
        .add_topic(add_request(&session.id, "Deploys"))
        .await
        .expect_err("token name");
    let entered = refused
        .enter_session(connection(&session.id, "mallory-tab"))
        .await
        .expect_err("token name");

    assert_nul_refused(&proposed, "token name");
    assert_nul_refused(&entered, "token name");
    let view = snapshot(&mut facilitator, &session.id).await;
    assert!(view.topics.is_empty(), "{view:?}");
    assert!(view.participants.is_empty(), "{view:?}");
    add_topic(&mut facilitator, &session.id, "Tests").await;
    expect_kind!(events.expect(view.sequence + 1).await, TopicAdded);
}
