use std::time::Duration;

use pulse_proto::leancoffee::v1::event::Kind;
use pulse_testkit::{expect_kind, TestUser, NOTICE};
use tonic::Code;

use crate::helpers::{
    active_participants, connection, create_session, snapshot, spawn_app, spawn_app_with,
    AppOptions, Client,
};

async fn active_names(client: &mut Client, session_id: &str) -> Vec<String> {
    let active = active_participants(client, session_id).await;
    active.into_iter().map(|p| p.display_name).collect()
}

#[tokio::test]
async fn entering_makes_a_participant_and_tells_the_others_once_per_user() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut facilitator = app.client(&ann).await;
    let mut guest = app.client(&bob).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;

    let me = facilitator
        .enter_session(connection(&session.id, "ann-1"))
        .await
        .expect("entered")
        .into_inner();
    let (envelope, kind) = events.expect_envelope(NOTICE).await;
    let joined = expect_kind!(kind, ParticipantJoined);
    assert_eq!(
        (me.role.as_str(), me.is_active, me.left_at),
        ("Facilitator", true, None)
    );
    assert_eq!(
        envelope.except_user_id,
        Some(ann.id.to_string()),
        "to the others"
    );
    assert_eq!(
        (joined.session_id, joined.user_id, joined.display_name),
        (session.id.clone(), ann.id.to_string(), "Ann".to_owned())
    );

    let first = guest
        .enter_session(connection(&session.id, "bob-1"))
        .await
        .expect("entered")
        .into_inner();
    guest
        .enter_session(connection(&session.id, "bob-2"))
        .await
        .expect("second tab");
    assert_eq!(first.role, "Participant");
    let joined = expect_kind!(events.expect(NOTICE).await, ParticipantJoined);
    assert_eq!(joined.user_id, bob.id.to_string());
    assert_eq!(active_names(&mut guest, &session.id).await, ["Ann", "Bob"]);

    // Bob's second tab was not announced: the next event is his leaving.
    guest
        .exit_session(connection(&session.id, "bob-2"))
        .await
        .expect("one tab closed");
    guest
        .exit_session(connection(&session.id, "bob-1"))
        .await
        .expect("last tab closed");
    let (envelope, kind) = events.expect_envelope(NOTICE).await;
    let left = expect_kind!(kind, ParticipantLeft);
    assert_eq!(envelope.except_user_id, Some(bob.id.to_string()));
    assert_eq!(
        (left.user_id, left.display_name),
        (bob.id.to_string(), "Bob".to_owned())
    );
    assert_eq!(active_names(&mut guest, &session.id).await, ["Ann"]);
    let bob_entry = snapshot(&mut guest, &session.id).await.participants[1].clone();
    assert!(!bob_entry.is_active && bob_entry.left_at.is_some());
}

#[tokio::test]
async fn a_participant_who_returns_is_active_again_and_announced_again() {
    let app = spawn_app().await;
    let bob = TestUser::new("Bob");
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let mut guest = app.client(&bob).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let joined_at = guest
        .enter_session(connection(&session.id, "bob-1"))
        .await
        .expect("entered")
        .into_inner()
        .joined_at;
    guest
        .exit_session(connection(&session.id, "bob-1"))
        .await
        .expect("left");

    let back = guest
        .enter_session(connection(&session.id, "bob-2"))
        .await
        .expect("back")
        .into_inner();

    expect_kind!(events.expect(NOTICE).await, ParticipantJoined);
    expect_kind!(events.expect(NOTICE).await, ParticipantLeft);
    let again = expect_kind!(events.expect(NOTICE).await, ParticipantJoined);
    assert_eq!(again.user_id, bob.id.to_string());
    assert!(back.is_active && back.left_at.is_none());
    assert_eq!(back.joined_at, joined_at, "first arrival is kept");
}

#[tokio::test]
async fn exiting_unknown_connections_does_nothing_and_touching_them_is_not_found() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let mut other = app.client(&TestUser::new("Bob")).await;
    let session = create_session(&mut client, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    client
        .enter_session(connection(&session.id, "ann-1"))
        .await
        .expect("entered");

    other
        .exit_session(connection(&session.id, "ann-1"))
        .await
        .expect("someone else's connection: nothing happens");
    let taken = other
        .enter_session(connection(&session.id, "ann-1"))
        .await
        .expect_err("connection id of another user");
    let absent = client
        .touch_session(connection(&session.id, "never-entered"))
        .await
        .expect_err("absent");
    client
        .touch_session(connection(&session.id, "ann-1"))
        .await
        .expect("heartbeat of a present connection");

    assert_eq!(taken.code(), Code::InvalidArgument);
    assert_eq!(taken.message(), "connectionId is in use by another user");
    assert_eq!(absent.code(), Code::NotFound);
    assert_eq!(absent.message(), "connection is not in this session");
    expect_kind!(events.expect(NOTICE).await, ParticipantJoined);
    assert_eq!(
        active_names(&mut client, &session.id).await,
        ["Ann"],
        "the refused entry left no trace"
    );
    assert_eq!(
        snapshot(&mut client, &session.id).await.sequence,
        0,
        "participation takes no sequence number"
    );
}

#[tokio::test]
async fn sweeper_ends_a_silent_connection_with_participant_left() {
    let app = spawn_app_with(AppOptions {
        participant_timeout: Duration::from_millis(500),
        participant_sweep_interval: Duration::from_millis(100),
        ..AppOptions::default()
    })
    .await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let session = create_session(&mut client, "Retro").await;
    let mut events = app.subscribe(&session.id).await;

    client
        .enter_session(connection(&session.id, "silent"))
        .await
        .expect("entered");
    expect_kind!(events.expect(NOTICE).await, ParticipantJoined);

    let (envelope, kind) = events.expect_envelope(NOTICE).await;
    let left = expect_kind!(kind, ParticipantLeft);
    assert_eq!(
        (left.user_id, left.session_id),
        (ann.id.to_string(), session.id.clone())
    );
    assert_eq!(envelope.except_user_id, Some(ann.id.to_string()));
    let gone = client
        .touch_session(connection(&session.id, "silent"))
        .await
        .expect_err("swept");
    assert_eq!(gone.code(), Code::NotFound);
    assert!(active_names(&mut client, &session.id).await.is_empty());
}
