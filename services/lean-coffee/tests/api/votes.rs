use pulse_proto::leancoffee::v1::event::Kind;
use pulse_testkit::{expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{add_topic, create_session, snapshot, spawn_app, vote};

#[tokio::test]
async fn votes_are_cast_and_removed_with_the_stored_count_in_each_event() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut facilitator = app.client(&ann).await;
    let mut guest = app.client(&bob).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let topic = add_topic(&mut facilitator, &session.id, "Deploys").await;
    expect_kind!(events.expect(1).await, TopicAdded);

    let after_ann = facilitator
        .vote_for_topic(vote(&session.id, &topic.id))
        .await
        .expect("Ann votes")
        .into_inner();
    let after_bob = guest
        .vote_for_topic(vote(&session.id, &topic.id))
        .await
        .expect("Bob votes")
        .into_inner();
    let after_removal = facilitator
        .remove_vote(vote(&session.id, &topic.id))
        .await
        .expect("Ann takes hers back")
        .into_inner();

    assert_eq!(
        (
            after_ann.vote_count,
            after_bob.vote_count,
            after_removal.vote_count
        ),
        (1, 2, 1)
    );
    let cast = expect_kind!(events.expect(2).await, VoteCast);
    assert_eq!(
        (cast.topic_id.as_str(), cast.session_id.as_str()),
        (topic.id.as_str(), session.id.as_str())
    );
    assert_eq!((cast.vote_count, cast.user_id), (1, ann.id.to_string()));
    let cast = expect_kind!(events.expect(3).await, VoteCast);
    assert_eq!((cast.vote_count, cast.user_id), (2, bob.id.to_string()));
    let removed = expect_kind!(events.expect(4).await, VoteRemoved);
    assert_eq!(
        (removed.topic_id.as_str(), removed.session_id.as_str()),
        (topic.id.as_str(), session.id.as_str())
    );
    assert_eq!(
        (removed.vote_count, removed.user_id),
        (1, ann.id.to_string())
    );
    assert_eq!(
        snapshot(&mut guest, &session.id).await.topics[0].vote_count,
        1
    );
}

#[tokio::test]
async fn a_second_vote_is_refused_and_a_missing_one_cannot_be_removed() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut client, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let topic = add_topic(&mut client, &session.id, "Deploys").await;
    expect_kind!(events.expect(1).await, TopicAdded);
    client
        .vote_for_topic(vote(&session.id, &topic.id))
        .await
        .expect("first vote");

    let twice = client
        .vote_for_topic(vote(&session.id, &topic.id))
        .await
        .expect_err("second vote");
    client
        .remove_vote(vote(&session.id, &topic.id))
        .await
        .expect("removed");
    let never = client
        .remove_vote(vote(&session.id, &topic.id))
        .await
        .expect_err("nothing to remove");

    assert_eq!(twice.code(), Code::AlreadyExists);
    assert_eq!(twice.message(), "you have already voted for this topic");
    assert_eq!(never.code(), Code::NotFound);
    assert_eq!(never.message(), "you have not voted for this topic");
    expect_kind!(events.expect(2).await, VoteCast);
    expect_kind!(events.expect(3).await, VoteRemoved);
    add_topic(&mut client, &session.id, "Sentinel").await;
    expect_kind!(events.expect(4).await, TopicAdded);
}

#[tokio::test]
async fn deleting_a_topic_deletes_its_votes() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut client, "Retro").await;
    let topic = add_topic(&mut client, &session.id, "Deploys").await;
    client
        .vote_for_topic(vote(&session.id, &topic.id))
        .await
        .expect("voted");

    client
        .delete_topic(crate::topics::delete(&session.id, &topic.id))
        .await
        .expect("deleted");

    let view = snapshot(&mut client, &session.id).await;
    assert!(view.voted_topic_ids.is_empty());
    let gone = client
        .vote_for_topic(vote(&session.id, &topic.id))
        .await
        .expect_err("topic gone");
    assert_eq!(gone.code(), Code::NotFound);
}
