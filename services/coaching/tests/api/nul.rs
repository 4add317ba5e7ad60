//! A NUL character, the one PostgreSQL text cannot hold, is refused in every
//! text the service stores, and in the name a token gives its caller, with
//! INVALID_ARGUMENT naming the field: nothing is stored and nothing
//! announced, where letting it through would fail in the database as an
//! internal error.

use pulse_proto::coaching::v1::{
    ListConversationsRequest, ListGoalProgressRequest, ListGoalsRequest, ListNotificationsRequest,
    ListRelationshipsRequest, NotifyRequest, SendMessageRequest,
};
use pulse_proto::coaching::{CHAT, GOALS, NOTIFICATIONS};
use pulse_testkit::{NulInputs, TestUser};

use crate::goals::progress;
use crate::helpers::{
    activate, assign, assignment, goal_input, invitation, spawn_app, trainer, TestApp,
};

/// Every group the users of a test could have been told something in.
async fn sequences(app: &TestApp, users: &[&TestUser]) -> Vec<u64> {
    let mut sequences = Vec::new();
    for user in users {
        for group in [
            CHAT.topic(user.id),
            GOALS.topic(user.id),
            NOTIFICATIONS.topic(user.id),
        ] {
            sequences.push(app.sequence(group).await);
        }
    }
    sequences
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut coach = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    let service = app.client(&TestUser::with_role("billing", "service")).await;
    activate(&mut coach, &mut client, &carl, true).await;
    let goal = assign(&mut coach, &carl, "Cut").await;
    let announced = sequences(&app, &[&tess, &carl]).await;
    let notice = |kind: &str, title: &str, body: Option<&str>| NotifyRequest {
        user_id: carl.id.to_string(),
        kind: kind.into(),
        title: title.into(),
        body: body.map(Into::into),
    };
    let goal_progress = ListGoalProgressRequest {
        goal_id: goal.id.clone(),
    };
    let progress_before = client
        .list_goal_progress(goal_progress.clone())
        .await
        .expect("progress")
        .into_inner();
    let inbox = ListNotificationsRequest { limit: None };
    let (to_carl, goal_id) = (&carl, goal.id.as_str());
    let inbox_before = client
        .list_notifications(inbox)
        .await
        .expect("inbox")
        .into_inner();

    NulInputs::new()
        .row("Message", &coach, |mut c, nul| async move {
            c.send_message(SendMessageRequest {
                recipient_id: carl.id.to_string(),
                message: nul,
            })
            .await
        })
        .row("Goal type", &coach, |mut c, nul| async move {
            c.assign_goal(assignment(to_carl, goal_input(&nul))).await
        })
        .row("Notes", &client, |mut c, nul| async move {
            c.update_goal_progress(progress(goal_id, 1800.0, Some(nul.as_str())))
                .await
        })
        .row("Kind", &service, |mut c, nul| async move {
            c.notify(notice(&nul, "Hi", None)).await
        })
        .row("Title", &service, |mut c, nul| async move {
            c.notify(notice("Announcement", &nul, None)).await
        })
        .row("Body", &service, |mut c, nul| async move {
            c.notify(notice("Announcement", "Hi", Some(nul.as_str())))
                .await
        })
        .assert_refused()
        .await;

    let conversations = coach
        .list_conversations(ListConversationsRequest {})
        .await
        .expect("conversations")
        .into_inner()
        .conversations;
    assert!(conversations.is_empty(), "no message was stored");
    let goals = client
        .list_goals(ListGoalsRequest { user_id: None })
        .await
        .expect("goals")
        .into_inner()
        .goals;
    assert_eq!(goals, [goal], "no goal was assigned");
    let progress_after = client
        .list_goal_progress(goal_progress)
        .await
        .expect("progress")
        .into_inner();
    assert_eq!(progress_after, progress_before, "no progress was recorded");
    let inbox_after = client
        .list_notifications(inbox)
        .await
        .expect("inbox")
        .into_inner();
    assert_eq!(inbox_after, inbox_before, "no notification was stored");
    assert_eq!(
        sequences(&app, &[&tess, &carl]).await,
        announced,
        "nothing was announced"
    );
}

#[tokio::test]
async fn a_token_name_with_a_nul_character_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Te\0ss"), TestUser::new("Carl"));
    let coach = app.client(&tess).await;
    let mut client = app.client(&carl).await;

    let invite = invitation(&carl, true);
    NulInputs::new()
        .row("Token name", &coach, |mut c, _| async move {
            c.invite_client(invite).await
        })
        .assert_refused()
        .await;

    let relationships = client
        .list_relationships(ListRelationshipsRequest {})
        .await
        .expect("relationships")
        .into_inner()
        .relationships;
    assert!(relationships.is_empty(), "no invitation was stored");
    assert_eq!(sequences(&app, &[&tess, &carl]).await, [0; 6]);
}
