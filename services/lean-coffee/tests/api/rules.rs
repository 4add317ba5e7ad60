//! Refusals: each returns the contract's status code with a clear message,
//! changes nothing and emits nothing (the next accepted change takes the
//! very next sequence number).

use pulse_proto::leancoffee::v1::{
    event::Kind, AddTopicRequest, CreateSessionRequest, GetSessionRequest, ListSessionsRequest,
};
use pulse_testkit::{assert_needs_bearer, assert_refused, expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{
    add_request, add_topic, connection, create_session, snapshot, spawn_app, status, vote,
};
use crate::topics::{delete, edit, set_status};

#[tokio::test]
async fn a_participant_cannot_change_the_session_status() {
    let app = spawn_app().await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let mut participant = app.client(&TestUser::new("Bob")).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;

    for target in ["InProgress", "Cancelled"] {
        let refused = participant
            .change_session_status(status(&session.id, target))
            .await
            .expect_err("not the facilitator");
        assert_refused(
            &refused,
            Code::PermissionDenied,
            "only the facilitator can change the session status",
        );
    }

    let view = snapshot(&mut participant, &session.id).await;
    assert_eq!(view.session.map(|s| s.status).as_deref(), Some("Scheduled"));
    facilitator
        .change_session_status(status(&session.id, "InProgress"))
        .await
        .expect("the facilitator may");
    expect_kind!(events.expect(1).await, SessionStatusChanged);
}

#[tokio::test]
async fn status_changes_outside_the_lifecycle_are_failed_preconditions() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut client, "Retro").await;
    let mut events = app.subscribe(&session.id).await;

    let skip = client
        .change_session_status(status(&session.id, "Completed"))
        .await
        .expect_err("not started yet");
    client
        .change_session_status(status(&session.id, "InProgress"))
        .await
        .expect("started");
    let again = client
        .change_session_status(status(&session.id, "InProgress"))
        .await
        .expect_err("already running");
    let back = client
        .change_session_status(status(&session.id, "Scheduled"))
        .await
        .expect_err("no way back");
    let unknown = client
        .change_session_status(status(&session.id, "Paused"))
        .await
        .expect_err("no such status");

    assert_refused(
        &skip,
        Code::FailedPrecondition,
        "session cannot move from Scheduled to Completed",
    );
    assert_refused(
        &again,
        Code::FailedPrecondition,
        "session is already InProgress",
    );
    assert_refused(
        &back,
        Code::FailedPrecondition,
        "session cannot move from InProgress to Scheduled",
    );
    assert_refused(
        &unknown,
        Code::InvalidArgument,
        "status must be one of Scheduled, InProgress, Completed, Cancelled",
    );
    expect_kind!(events.expect(1).await, SessionStatusChanged);
    client
        .change_session_status(status(&session.id, "Completed"))
        .await
        .expect("completed");
    let reopen = client
        .change_session_status(status(&session.id, "InProgress"))
        .await
        .expect_err("over is over");
    assert_refused(
        &reopen,
        Code::FailedPrecondition,
        "session is Completed: its status can no longer change",
    );
    expect_kind!(events.expect(2).await, SessionStatusChanged);
}

#[tokio::test]
async fn nothing_can_be_added_to_or_voted_in_a_completed_session() {
    let app = spawn_app().await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let mut participant = app.client(&TestUser::new("Bob")).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let topic = add_topic(&mut participant, &session.id, "Deploys").await;
    for target in ["InProgress", "Completed"] {
        facilitator
            .change_session_status(status(&session.id, target))
            .await
            .expect("moved");
    }
    let before = snapshot(&mut facilitator, &session.id).await;
    let closed = "session is Completed: topics and votes can no longer change";

    let refusals = [
        participant
            .add_topic(add_request(&session.id, "Late idea"))
            .await
            .expect_err("add"),
        participant
            .vote_for_topic(vote(&session.id, &topic.id))
            .await
            .expect_err("vote"),
        participant
            .edit_topic(edit(&session.id, &topic.id, Some("Renamed"), None))
            .await
            .expect_err("edit"),
        facilitator
            .set_topic_status(set_status(&session.id, &topic.id, "Discussed"))
            .await
            .expect_err("status"),
        facilitator
            .delete_topic(delete(&session.id, &topic.id))
            .await
            .expect_err("delete"),
    ];

    for refused in &refusals {
        assert_refused(refused, Code::FailedPrecondition, closed);
    }
    assert_eq!(snapshot(&mut facilitator, &session.id).await, before);
}

#[tokio::test]
async fn only_the_author_or_the_facilitator_may_change_a_topic() {
    let app = spawn_app().await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let mut author = app.client(&TestUser::new("Bob")).await;
    let mut other = app.client(&TestUser::new("Cleo")).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let topic = add_topic(&mut author, &session.id, "Deploys").await;
    expect_kind!(events.expect(1).await, TopicAdded);
    let message = "only the topic's author or the facilitator can change this topic";

    let refusals = [
        other
            .edit_topic(edit(&session.id, &topic.id, Some("Mine now"), None))
            .await
            .expect_err("edit"),
        other
            .set_topic_status(set_status(&session.id, &topic.id, "Archived"))
            .await
            .expect_err("status"),
        other
            .delete_topic(delete(&session.id, &topic.id))
            .await
            .expect_err("delete"),
    ];

    for refused in &refusals {
        assert_refused(refused, Code::PermissionDenied, message);
    }
    add_topic(&mut other, &session.id, "Cleo's own").await;
    let added = expect_kind!(events.expect(2).await, TopicAdded);
    assert_eq!(added.topic.map(|t| t.title).as_deref(), Some("Cleo's own"));
    assert_eq!(snapshot(&mut other, &session.id).await.topics[0], topic);
}

#[tokio::test]
async fn invalid_requests_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut client, "Retro").await;
    let topic = add_topic(&mut client, &session.id, "Deploys").await;

    let cases = [
        (
            client
                .create_session(CreateSessionRequest {
                    title: " ".into(),
                    description: None,
                    scheduled_start_time: None,
                })
                .await,
            "title must not be empty",
        ),
        (
            client
                .create_session(CreateSessionRequest {
                    title: "Retro".into(),
                    description: None,
                    scheduled_start_time: Some("next tuesday".into()),
                })
                .await,
            "scheduledStartTime must be an RFC 3339 timestamp",
        ),
    ];
    for (outcome, message) in cases {
        assert_refused(&outcome.expect_err(message), Code::InvalidArgument, message);
    }
    let bad_id = client
        .get_session(GetSessionRequest {
            session_id: "not-a-uuid".into(),
        })
        .await
        .expect_err("bad id");
    let no_topic = client
        .add_topic(AddTopicRequest {
            session_id: session.id.clone(),
            topic: None,
        })
        .await
        .expect_err("no topic");
    let long_title = client
        .add_topic(add_request(&session.id, &"x".repeat(201)))
        .await
        .expect_err("long title");
    let empty_patch = client
        .edit_topic(edit(&session.id, &topic.id, None, None))
        .await
        .expect_err("nothing to change");
    let bad_status = client
        .set_topic_status(set_status(&session.id, &topic.id, "Done"))
        .await
        .expect_err("no such status");
    let blank_connection = client
        .enter_session(connection(&session.id, " "))
        .await
        .expect_err("blank connection id");

    assert_refused(&bad_id, Code::InvalidArgument, "sessionId is not a UUID");
    assert_refused(&no_topic, Code::InvalidArgument, "topic is required");
    assert_refused(
        &long_title,
        Code::InvalidArgument,
        "title must be at most 200 characters",
    );
    assert_refused(
        &empty_patch,
        Code::InvalidArgument,
        "nothing to change: give a title or a description",
    );
    assert_refused(
        &bad_status,
        Code::InvalidArgument,
        "status must be one of ToDiscuss, Discussing, Discussed, Archived",
    );
    assert_refused(
        &blank_connection,
        Code::InvalidArgument,
        "connectionId must not be empty",
    );
    let sessions = client
        .list_sessions(ListSessionsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 1, "no session was created");
}

#[tokio::test]
async fn unknown_sessions_and_topics_are_not_found() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut client, "Retro").await;
    let nowhere = uuid::Uuid::new_v4().to_string();

    let no_session = client
        .vote_for_topic(vote(&nowhere, &nowhere))
        .await
        .expect_err("no session");
    let no_topic = client
        .vote_for_topic(vote(&session.id, &nowhere))
        .await
        .expect_err("no topic");
    let no_entry = client
        .enter_session(connection(&nowhere, "tab"))
        .await
        .expect_err("no session to enter");
    let topic = add_topic(&mut client, &session.id, "Deploys").await;
    let not_repeated = client
        .set_topic_status(set_status(&session.id, &topic.id, "ToDiscuss"))
        .await
        .expect_err("already so");

    assert_refused(&no_session, Code::NotFound, "session not found");
    assert_refused(&no_topic, Code::NotFound, "topic not found");
    assert_refused(&no_entry, Code::NotFound, "session not found");
    assert_refused(
        &not_repeated,
        Code::FailedPrecondition,
        "topic is already ToDiscuss",
    );
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let app = spawn_app().await;

    let mut anonymous = app.anonymous_client().await;

    assert_needs_bearer(anonymous.list_sessions(ListSessionsRequest {})).await;
}
