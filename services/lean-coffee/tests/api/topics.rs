use pulse_proto::leancoffee::v1::{
    event::Kind, AddTopicRequest, DeleteTopicRequest, EditTopicRequest, NewTopic,
    SetTopicStatusRequest, TopicPatch,
};
use pulse_testkit::{expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{add_topic, create_session, snapshot, spawn_app};

pub fn edit(
    session_id: &str,
    topic_id: &str,
    title: Option<&str>,
    description: Option<&str>,
) -> EditTopicRequest {
    EditTopicRequest {
        session_id: session_id.into(),
        topic_id: topic_id.into(),
        patch: Some(TopicPatch {
            title: title.map(Into::into),
            description: description.map(Into::into),
        }),
    }
}

pub fn set_status(session_id: &str, topic_id: &str, status: &str) -> SetTopicStatusRequest {
    SetTopicStatusRequest {
        session_id: session_id.into(),
        topic_id: topic_id.into(),
        status: status.into(),
    }
}

pub fn delete(session_id: &str, topic_id: &str) -> DeleteTopicRequest {
    DeleteTopicRequest {
        session_id: session_id.into(),
        topic_id: topic_id.into(),
    }
}

#[tokio::test]
async fn added_topic_is_announced_with_the_whole_topic() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut facilitator = app.client(&ann).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;

    let topic = app
        .client(&bob)
        .await
        .add_topic(AddTopicRequest {
            session_id: session.id.clone(),
            topic: Some(NewTopic {
                title: " Deploys ".into(),
                description: Some("Why so slow?".into()),
            }),
        })
        .await
        .expect("added")
        .into_inner();

    assert_eq!(
        (topic.title.as_str(), topic.description.as_deref()),
        ("Deploys", Some("Why so slow?"))
    );
    assert_eq!(
        (topic.author_id.as_str(), topic.author_name.as_str()),
        (bob.id.to_string().as_str(), "Bob")
    );
    assert_eq!((topic.status.as_str(), topic.vote_count), ("ToDiscuss", 0));
    assert_eq!(topic.updated_at, None);
    let (envelope, kind) = events.expect_envelope(1).await;
    let added = expect_kind!(kind, TopicAdded);
    assert_eq!(envelope.except_user_id, None);
    assert_eq!(
        (added.session_id.as_str(), added.topic_id.as_str()),
        (session.id.as_str(), topic.id.as_str())
    );
    assert_eq!(added.topic, Some(topic));
}

#[tokio::test]
async fn author_edits_sets_status_and_deletes_a_topic_with_an_event_each() {
    let app = spawn_app().await;
    let bob = TestUser::new("Bob");
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let mut author = app.client(&bob).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let topic = add_topic(&mut author, &session.id, "Deploys").await;
    expect_kind!(events.expect(1).await, TopicAdded);

    let edited = author
        .edit_topic(edit(&session.id, &topic.id, None, Some("Slow pipelines")))
        .await
        .expect("edited")
        .into_inner();
    let event = expect_kind!(events.expect(2).await, TopicEdited);
    assert_eq!(edited.title, "Deploys", "untouched field kept");
    assert_eq!(edited.description.as_deref(), Some("Slow pipelines"));
    assert!(edited.updated_at.is_some());
    assert_eq!(
        (event.topic_id.as_str(), event.session_id.as_str()),
        (topic.id.as_str(), session.id.as_str())
    );
    assert_eq!(event.topic, Some(edited));

    let discussing = author
        .set_topic_status(set_status(&session.id, &topic.id, "Discussing"))
        .await
        .expect("status set")
        .into_inner();
    let event = expect_kind!(events.expect(3).await, TopicStatusChanged);
    assert_eq!(discussing.status, "Discussing");
    assert_eq!(
        (event.topic_id.as_str(), event.status.as_str()),
        (topic.id.as_str(), "Discussing")
    );

    let deleted = author
        .delete_topic(delete(&session.id, &topic.id))
        .await
        .expect("deleted")
        .into_inner();
    let event = expect_kind!(events.expect(4).await, TopicDeleted);
    assert_eq!(deleted.topic_id, topic.id);
    assert_eq!(
        (event.topic_id.as_str(), event.session_id.as_str()),
        (topic.id.as_str(), session.id.as_str())
    );
    assert!(snapshot(&mut author, &session.id).await.topics.is_empty());
}

#[tokio::test]
async fn facilitator_manages_anyones_topic() {
    let app = spawn_app().await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let mut author = app.client(&TestUser::new("Bob")).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let topic = add_topic(&mut author, &session.id, "Deploys").await;

    facilitator
        .edit_topic(edit(&session.id, &topic.id, Some("Releases"), None))
        .await
        .expect("facilitator edits");
    facilitator
        .set_topic_status(set_status(&session.id, &topic.id, "Discussed"))
        .await
        .expect("facilitator sets the status");
    facilitator
        .delete_topic(delete(&session.id, &topic.id))
        .await
        .expect("facilitator deletes");
}

#[tokio::test]
async fn an_edit_that_changes_nothing_writes_and_emits_nothing() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut client, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let topic = add_topic(&mut client, &session.id, "Deploys").await;
    expect_kind!(events.expect(1).await, TopicAdded);

    let same = client
        .edit_topic(edit(&session.id, &topic.id, Some("Deploys"), None))
        .await
        .expect("accepted")
        .into_inner();
    add_topic(&mut client, &session.id, "Next").await;

    assert_eq!(same, topic);
    expect_kind!(events.expect(2).await, TopicAdded);
}

#[tokio::test]
async fn a_topic_of_another_session_is_not_found_there() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let here = create_session(&mut client, "Here").await;
    let there = create_session(&mut client, "There").await;
    let topic = add_topic(&mut client, &there.id, "Elsewhere").await;

    let error = client
        .delete_topic(delete(&here.id, &topic.id))
        .await
        .expect_err("wrong session");

    assert_eq!(error.code(), Code::NotFound);
    assert_eq!(error.message(), "topic not found");
    assert_eq!(snapshot(&mut client, &there.id).await.topics.len(), 1);
}
