use pulse_proto::leancoffee::v1::{event::Kind, CreateSessionRequest, ListSessionsRequest};
use pulse_testkit::{expect_kind, TestUser};

use crate::helpers::{add_topic, connection, create_session, snapshot, spawn_app, status};

#[tokio::test]
async fn created_session_is_scheduled_and_facilitated_by_its_creator() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;

    let session = client
        .create_session(CreateSessionRequest {
            title: "  Team retro ".into(),
            description: Some("Monthly".into()),
            scheduled_start_time: Some("2030-01-02T03:04:05+01:00".into()),
        })
        .await
        .expect("created")
        .into_inner();

    assert_eq!(session.title, "Team retro");
    assert_eq!(session.description.as_deref(), Some("Monthly"));
    assert_eq!(session.facilitator_id, ann.id.to_string());
    assert_eq!(session.status, "Scheduled");
    assert_eq!(
        session.scheduled_start_time.as_deref(),
        Some("2030-01-02T02:04:05.000Z")
    );
    assert_eq!(
        (&session.actual_start_time, &session.actual_end_time),
        (&None, &None)
    );
    let view = snapshot(&mut client, &session.id).await;
    assert_eq!(view.session.as_ref(), Some(&session));
    assert!(view.topics.is_empty() && view.participants.is_empty());
    assert_eq!(view.sequence, 0, "no event before anyone acts");
}

#[tokio::test]
async fn facilitator_runs_a_session_to_completion_and_times_are_set_once() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let session = create_session(&mut client, "Retro").await;
    let mut events = app.subscribe(&session.id).await;

    let started = client
        .change_session_status(status(&session.id, "InProgress"))
        .await
        .expect("started")
        .into_inner();
    let (envelope, kind) = events.expect_envelope(1).await;
    let changed = expect_kind!(kind, SessionStatusChanged);
    assert_eq!(
        (changed.session_id.as_str(), changed.status.as_str()),
        (session.id.as_str(), "InProgress")
    );
    assert_eq!(envelope.group, format!("session_{}", session.id));
    assert_eq!(envelope.except_user_id, None, "to everyone");
    let start = started.actual_start_time.clone().expect("start time set");
    assert_eq!(started.actual_end_time, None);

    let completed = client
        .change_session_status(status(&session.id, "Completed"))
        .await
        .expect("completed")
        .into_inner();
    let changed = expect_kind!(events.expect(2).await, SessionStatusChanged);
    assert_eq!(changed.status, "Completed");
    assert_eq!(completed.status, "Completed");
    assert_eq!(completed.actual_start_time, Some(start), "start kept");
    assert!(completed.actual_end_time.is_some());

    let view = snapshot(&mut client, &session.id).await;
    assert_eq!(view.session, Some(completed));
    assert_eq!(view.sequence, 2);
    app.stop().await;
}

#[tokio::test]
async fn scheduled_or_running_sessions_can_be_cancelled_without_an_end_time() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let scheduled = create_session(&mut client, "Never held").await;
    let running = create_session(&mut client, "Cut short").await;
    client
        .change_session_status(status(&running.id, "InProgress"))
        .await
        .expect("started");

    for session in [&scheduled, &running] {
        let cancelled = client
            .change_session_status(status(&session.id, "cancelled"))
            .await
            .expect("cancelled")
            .into_inner();
        assert_eq!(cancelled.status, "Cancelled");
        assert_eq!(cancelled.actual_end_time, None);
    }
}

#[tokio::test]
async fn snapshot_holds_topics_participants_the_callers_votes_and_the_last_sequence() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut facilitator = app.client(&ann).await;
    let mut guest = app.client(&bob).await;
    let session = create_session(&mut facilitator, "Retro").await;
    facilitator
        .enter_session(connection(&session.id, "ann-1"))
        .await
        .expect("entered");
    guest
        .enter_session(connection(&session.id, "bob-1"))
        .await
        .expect("entered");
    let first = add_topic(&mut facilitator, &session.id, "Deploys").await;
    let second = add_topic(&mut guest, &session.id, "Lunch").await;
    guest
        .vote_for_topic(crate::helpers::vote(&session.id, &second.id))
        .await
        .expect("voted");

    let view = snapshot(&mut guest, &session.id).await;

    let titles: Vec<_> = view.topics.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Deploys", "Lunch"], "oldest first");
    assert_eq!(
        (view.topics[0].vote_count, view.topics[1].vote_count),
        (0, 1)
    );
    assert_eq!(view.topics[0].id, first.id);
    assert_eq!(view.voted_topic_ids, std::slice::from_ref(&second.id));
    let people: Vec<_> = view
        .participants
        .iter()
        .map(|p| (p.display_name.as_str(), p.role.as_str(), p.is_active))
        .collect();
    assert_eq!(
        people,
        [("Ann", "Facilitator", true), ("Bob", "Participant", true)]
    );
    // Two topics and one vote: three events (joining takes no number).
    assert_eq!(view.sequence, 3);
    assert!(snapshot(&mut facilitator, &session.id)
        .await
        .voted_topic_ids
        .is_empty());
}

#[tokio::test]
async fn list_sessions_shows_what_the_caller_facilitates_or_entered_newest_first() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut facilitator = app.client(&ann).await;
    let mut guest = app.client(&bob).await;
    let older = create_session(&mut facilitator, "Older").await;
    let newer = create_session(&mut facilitator, "Newer").await;
    guest
        .enter_session(connection(&older.id, "bob-1"))
        .await
        .expect("entered");

    let mine = facilitator
        .list_sessions(ListSessionsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .sessions;
    let entered = guest
        .list_sessions(ListSessionsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .sessions;

    let ids: Vec<_> = mine.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [newer.id.as_str(), older.id.as_str()]);
    assert_eq!(entered, [older]);
}
