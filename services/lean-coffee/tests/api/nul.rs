//! A NUL character, the one PostgreSQL text cannot hold, is refused in every
//! text the service stores, with INVALID_ARGUMENT naming the field: nothing
//! is written and nothing announced (the next accepted change takes the very
//! next sequence number), where letting it through would fail in the
//! database as an internal error.

use pulse_proto::leancoffee::v1::{
    event::Kind, AddTopicRequest, CreateSessionRequest, ListSessionsRequest, NewTopic,
};
use pulse_testkit::{expect_kind, NulInputs, TestUser};

use crate::helpers::{add_request, add_topic, connection, create_session, snapshot, spawn_app};
use crate::topics::edit;

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
    let (session_id, topic_id) = (session.id.as_str(), topic.id.as_str());
    let new_topic = |title: &str, description: Option<String>| AddTopicRequest {
        session_id: session.id.clone(),
        topic: Some(NewTopic {
            title: title.into(),
            description,
        }),
    };

    NulInputs::new()
        .row("title", &client, |mut c, nul| async move {
            c.create_session(new_session(&nul, None)).await
        })
        .row("description", &client, |mut c, nul| async move {
            c.create_session(new_session("Planning", Some(nul.as_str())))
                .await
        })
        .row("title", &client, |mut c, nul| async move {
            c.add_topic(new_topic(&nul, None)).await
        })
        .row("description", &client, |mut c, nul| async move {
            c.add_topic(new_topic("Tests", Some(nul))).await
        })
        .row("title", &client, |mut c, nul| async move {
            c.edit_topic(edit(session_id, topic_id, Some(nul.as_str()), None))
                .await
        })
        .row("description", &client, |mut c, nul| async move {
            c.edit_topic(edit(session_id, topic_id, None, Some(nul.as_str())))
                .await
        })
        .row("connectionId", &client, |mut c, nul| async move {
            c.enter_session(connection(session_id, &nul)).await
        })
        .row("connectionId", &client, |mut c, nul| async move {
            c.touch_session(connection(session_id, &nul)).await
        })
        .row("connectionId", &client, |mut c, nul| async move {
            c.exit_session(connection(session_id, &nul)).await
        })
        .assert_refused()
        .await;

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
    let refused = app.client(&TestUser::new("Mal\0lory")).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    let session_id = session.id.as_str();

    NulInputs::new()
        .row("token name", &refused, |mut c, _| async move {
            c.add_topic(add_request(session_id, "Deploys")).await
        })
        .row("token name", &refused, |mut c, _| async move {
            c.enter_session(connection(session_id, "mallory-tab")).await
        })
        .assert_refused()
        .await;

    let view = snapshot(&mut facilitator, &session.id).await;
    assert!(view.topics.is_empty(), "{view:?}");
    assert!(view.participants.is_empty(), "{view:?}");
    add_topic(&mut facilitator, &session.id, "Tests").await;
    expect_kind!(events.expect(view.sequence + 1).await, TopicAdded);
}
