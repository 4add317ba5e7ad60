//! Vote integrity under concurrent calls: each task below has its own gRPC
//! connection, like browser tabs behind gateways, and all start together.

use std::collections::BTreeSet;

use futures::future::join_all;
use pulse_proto::leancoffee::v1::event::Kind;
use pulse_testkit::{expect_kind, Events, TestUser};
use tonic::Code;

use crate::helpers::{
    add_topic, create_session, snapshot, spawn_app_with, vote, AppOptions, Client, TestApp,
};

const CALLERS: usize = 50;

/// A session with one topic, and its events after the topic's (sequence 1).
async fn session_with_a_topic(app: &TestApp, facilitator: &mut Client) -> (String, String, Events) {
    let session = create_session(facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let topic = add_topic(facilitator, &session.id, "Deploys").await;
    expect_kind!(events.expect(1).await, TopicAdded);
    (session.id, topic.id, events)
}

fn options() -> AppOptions {
    AppOptions {
        db_max_connections: 10,
        ..AppOptions::default()
    }
}

/// The vote count an event reports, with +1 for a cast and -1 for a removal.
fn vote_event(kind: Kind) -> (i32, i32) {
    match kind {
        Kind::VoteCast(cast) => (cast.vote_count, 1),
        Kind::VoteRemoved(removed) => (removed.vote_count, -1),
        other => panic!("expected a vote event, got {other:?}"),
    }
}

#[tokio::test]
async fn fifty_simultaneous_votes_of_one_user_store_one_vote_and_one_event() {
    let app = spawn_app_with(options()).await;
    let ann = TestUser::new("Ann");
    let mut facilitator = app.client(&ann).await;
    let (session_id, topic_id, mut events) = session_with_a_topic(&app, &mut facilitator).await;
    let bob = TestUser::new("Bob");
    let mut tabs = Vec::new();
    for _ in 0..CALLERS {
        tabs.push(app.client(&bob).await);
    }

    let outcomes = join_all(tabs.into_iter().map(|mut tab| {
        let request = vote(&session_id, &topic_id);
        async move { tab.vote_for_topic(request).await }
    }))
    .await;

    let accepted: Vec<_> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok())
        .collect();
    assert_eq!(accepted.len(), 1, "exactly one vote is accepted");
    assert_eq!(accepted[0].get_ref().vote_count, 1);
    for refused in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    }
    let cast = expect_kind!(events.expect(2).await, VoteCast);
    assert_eq!((cast.vote_count, cast.user_id), (1, bob.id.to_string()));
    add_topic(&mut facilitator, &session_id, "Sentinel").await;
    expect_kind!(events.expect(3).await, TopicAdded);
    let view = snapshot(&mut facilitator, &session_id).await;
    assert_eq!(view.topics[0].vote_count, 1, "one vote stored");
}

#[tokio::test]
async fn fifty_users_voting_at_once_are_counted_one_to_fifty() {
    let app = spawn_app_with(options()).await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let (session_id, topic_id, mut events) = session_with_a_topic(&app, &mut facilitator).await;
    let mut voters = Vec::new();
    for n in 0..CALLERS {
        voters.push(app.client(&TestUser::new(&format!("Voter {n}"))).await);
    }

    let outcomes = join_all(voters.into_iter().map(|mut voter| {
        let request = vote(&session_id, &topic_id);
        async move { voter.vote_for_topic(request).await }
    }))
    .await;

    let expected: BTreeSet<i32> = (1..=50).collect();
    let replies: BTreeSet<i32> = outcomes
        .into_iter()
        .map(|outcome| {
            outcome
                .expect("every vote is accepted")
                .into_inner()
                .vote_count
        })
        .collect();
    assert_eq!(replies, expected, "every reply saw a different count");
    let mut seen = Vec::new();
    for sequence in 2..2 + CALLERS as u64 {
        seen.push(expect_kind!(events.expect(sequence).await, VoteCast).vote_count);
    }
    let ascending: Vec<i32> = (1..=50).collect();
    assert_eq!(seen, ascending, "counts rise by one in sequence order");
    let view = snapshot(&mut facilitator, &session_id).await;
    assert_eq!(view.topics[0].vote_count, 50);
    assert_eq!(view.sequence, 1 + CALLERS as u64);
}

#[tokio::test]
async fn racing_votes_and_removals_end_with_the_last_event_matching_the_store() {
    let app = spawn_app_with(options()).await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let (session_id, topic_id, mut events) = session_with_a_topic(&app, &mut facilitator).await;
    let mut voters = Vec::new();
    for n in 0..30 {
        voters.push((n, app.client(&TestUser::new(&format!("Voter {n}"))).await));
    }

    // Even voters vote and take it back; odd ones vote, take it back and
    // vote again. All of them at once.
    let calls = join_all(voters.into_iter().map(|(n, mut voter)| {
        let request = vote(&session_id, &topic_id);
        async move {
            let rounds = if n % 2 == 0 { 2 } else { 3 };
            for round in 0..rounds {
                if round % 2 == 0 {
                    voter.vote_for_topic(request.clone()).await?;
                } else {
                    voter.remove_vote(request.clone()).await?;
                }
            }
            Ok::<u32, tonic::Status>(rounds)
        }
    }))
    .await;

    let total: u32 = calls
        .into_iter()
        .map(|calls| calls.expect("every call succeeds"))
        .sum();
    let mut count = 0;
    for sequence in 2..2 + u64::from(total) {
        let (reported, change) =
            vote_event(Kind::try_from(events.expect(sequence).await).expect("a Lean Coffee event"));
        count += change;
        assert_eq!(
            reported, count,
            "event {sequence} reports the count after its change"
        );
    }
    let stored = snapshot(&mut facilitator, &session_id).await.topics[0].vote_count;
    assert_eq!((stored, count), (15, 15), "store and last event agree");
}
