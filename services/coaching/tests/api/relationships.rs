//! Trainer-client relationships: every change reaches both sides'
//! notification groups; refusals change nothing and announce nothing.

use pulse_proto::coaching::v1::{
    event::Kind, ListRelationshipsRequest, Relationship, SetGoalEditPermissionRequest,
};
use pulse_proto::coaching::NOTIFICATIONS;
use pulse_testkit::{assert_refused, expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{activate, invitation, relationship, spawn_app, trainer, Client};

pub fn permission(id: &str, can_edit_goals: bool) -> SetGoalEditPermissionRequest {
    SetGoalEditPermissionRequest {
        relationship_id: id.into(),
        can_edit_goals,
    }
}

pub async fn relationships(client: &mut Client) -> Vec<Relationship> {
    client
        .list_relationships(ListRelationshipsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .relationships
}

#[tokio::test]
async fn an_invitation_is_announced_to_both_and_notifies_the_client() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut trainer_news = app.subscribe(NOTIFICATIONS.topic(tess.id)).await;
    let mut client_news = app.subscribe(NOTIFICATIONS.topic(carl.id)).await;

    let invited = trainer
        .invite_client(invitation(&carl, true))
        .await
        .expect("invited")
        .into_inner();

    assert_eq!(invited.trainer_id, tess.id.to_string());
    assert_eq!(invited.client_id, carl.id.to_string());
    assert_eq!(
        (invited.status.as_str(), invited.can_edit_goals),
        ("Pending", true)
    );
    assert_eq!(invited.created_at, invited.updated_at);
    let to_trainer = expect_kind!(
        trainer_news.expect_to_everyone(1).await,
        RelationshipUpdated
    );
    let to_client = expect_kind!(client_news.expect_to_everyone(1).await, RelationshipUpdated);
    assert_eq!(to_trainer.relationship.as_ref(), Some(&invited));
    assert_eq!(to_client, to_trainer);
    let notice = expect_kind!(client_news.expect_to_everyone(2).await, ReceiveNotification);
    assert_eq!(notice.user_id, carl.id.to_string());
    assert_eq!(notice.kind, "RelationshipInvited");
    assert_eq!(
        notice.body.as_deref(),
        Some("Tess invited you to be their client")
    );
    assert_eq!(app.sequence(NOTIFICATIONS.topic(tess.id)).await, 1);
    assert_eq!(app.sequence(NOTIFICATIONS.topic(carl.id)).await, 2);
    let stored = app
        .client(&carl)
        .await
        .list_notifications(pulse_proto::coaching::v1::ListNotificationsRequest { limit: None })
        .await
        .expect("listed")
        .into_inner()
        .notifications;
    assert_eq!(stored, [notice]);
}

#[tokio::test]
async fn a_relationship_runs_from_invitation_to_its_end() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    let mut trainer_news = app.subscribe(NOTIFICATIONS.topic(tess.id)).await;
    let invited = trainer
        .invite_client(invitation(&carl, false))
        .await
        .expect("invited")
        .into_inner();
    expect_kind!(
        trainer_news.expect_to_everyone(1).await,
        RelationshipUpdated
    );

    let active = client
        .accept_invitation(relationship(&invited.id))
        .await
        .expect("accepted")
        .into_inner();
    let granted = client
        .set_goal_edit_permission(permission(&invited.id, true))
        .await
        .expect("granted")
        .into_inner();
    let ended = trainer
        .end_relationship(relationship(&invited.id))
        .await
        .expect("ended")
        .into_inner();

    assert_eq!(
        (active.status.as_str(), active.can_edit_goals),
        ("Active", false)
    );
    assert_eq!(
        (granted.status.as_str(), granted.can_edit_goals),
        ("Active", true)
    );
    assert_eq!(
        (ended.status.as_str(), ended.can_edit_goals),
        ("Ended", true)
    );
    assert_eq!(ended.created_at, invited.created_at);
    for (sequence, expected) in [(2, &active), (3, &granted), (4, &ended)] {
        let update = expect_kind!(
            trainer_news.expect_to_everyone(sequence).await,
            RelationshipUpdated
        );
        assert_eq!(update.relationship.as_ref(), Some(expected));
    }
    // The client's group has the invitation notice on top of the four updates.
    assert_eq!(app.sequence(NOTIFICATIONS.topic(carl.id)).await, 5);
    assert_eq!(
        relationships(&mut trainer).await,
        std::slice::from_ref(&ended)
    );
    assert_eq!(relationships(&mut client).await, [ended]);
}

#[tokio::test]
async fn setting_the_permission_it_already_has_changes_and_announces_nothing() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    let active = activate(&mut trainer, &mut client, &carl, true).await;
    let before = app.sequence(NOTIFICATIONS.topic(tess.id)).await;

    let same = client
        .set_goal_edit_permission(permission(&active.id, true))
        .await
        .expect("no-op")
        .into_inner();

    assert_eq!(same, active, "returned unchanged, updatedAt included");
    assert_eq!(app.sequence(NOTIFICATIONS.topic(tess.id)).await, before);
}

#[tokio::test]
async fn either_side_may_end_a_pending_or_active_relationship_and_the_pair_may_start_again() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    let declined = trainer
        .invite_client(invitation(&carl, false))
        .await
        .expect("invited")
        .into_inner();
    client
        .end_relationship(relationship(&declined.id))
        .await
        .expect("the client declines");
    let active = activate(&mut trainer, &mut client, &carl, false).await;

    let ended = client
        .end_relationship(relationship(&active.id))
        .await
        .expect("the client ends it")
        .into_inner();
    let again = trainer
        .end_relationship(relationship(&active.id))
        .await
        .expect_err("already ended");
    let accept_ended = client
        .accept_invitation(relationship(&declined.id))
        .await
        .expect_err("ended");
    let permission_ended = client
        .set_goal_edit_permission(permission(&active.id, true))
        .await
        .expect_err("ended");

    assert_eq!(ended.status, "Ended");
    assert_refused(
        &again,
        Code::FailedPrecondition,
        "Relationship has already ended",
    );
    assert_refused(
        &accept_ended,
        Code::FailedPrecondition,
        "Only a pending invitation can be accepted",
    );
    assert_refused(
        &permission_ended,
        Code::FailedPrecondition,
        "Relationship has already ended",
    );
    let statuses: Vec<_> = relationships(&mut trainer)
        .await
        .into_iter()
        .map(|r| (r.id, r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (active.id, "Ended".to_owned()),
            (declined.id, "Ended".to_owned())
        ],
        "newest first"
    );
}

#[tokio::test]
async fn only_trainers_invite_and_never_twice_or_themselves() {
    let app = spawn_app().await;
    let (tess, carl, nina) = (
        trainer("Tess"),
        TestUser::new("Carl"),
        TestUser::new("Nina"),
    );
    let mut not_a_trainer = app.client(&nina).await;
    let mut trainer = app.client(&tess).await;

    let no_role = not_a_trainer
        .invite_client(invitation(&carl, true))
        .await
        .expect_err("not a trainer");
    let herself = trainer
        .invite_client(invitation(&tess, true))
        .await
        .expect_err("herself");
    let malformed = trainer
        .invite_client(pulse_proto::coaching::v1::InviteClientRequest {
            client_id: "carl".into(),
            can_edit_goals: true,
        })
        .await
        .expect_err("not an id");

    assert_refused(
        &no_role,
        Code::PermissionDenied,
        "Only trainers can invite clients",
    );
    assert_refused(&herself, Code::InvalidArgument, "Cannot invite yourself");
    assert_refused(&malformed, Code::InvalidArgument, "Invalid clientId");
    assert!(relationships(&mut not_a_trainer).await.is_empty());
    assert_eq!(
        app.sequence(NOTIFICATIONS.topic(carl.id)).await,
        0,
        "nothing announced"
    );

    trainer
        .invite_client(invitation(&carl, true))
        .await
        .expect("invited");
    let pending_twice = trainer
        .invite_client(invitation(&carl, false))
        .await
        .expect_err("pending already");
    let mut client = app.client(&carl).await;
    let pending = relationships(&mut client).await;
    client
        .accept_invitation(relationship(&pending[0].id))
        .await
        .expect("accepted");
    let active_twice = trainer
        .invite_client(invitation(&carl, false))
        .await
        .expect_err("active already");

    for refused in [&pending_twice, &active_twice] {
        assert_refused(
            refused,
            Code::AlreadyExists,
            "A relationship with this client already exists",
        );
    }
    assert_eq!(relationships(&mut client).await.len(), 1);
}

#[tokio::test]
async fn only_the_client_accepts_or_sets_the_permission() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let invited = trainer
        .invite_client(invitation(&carl, false))
        .await
        .expect("invited")
        .into_inner();
    let before = app.sequence(NOTIFICATIONS.topic(carl.id)).await;

    let accept = trainer
        .accept_invitation(relationship(&invited.id))
        .await
        .expect_err("not the client");
    let grant = trainer
        .set_goal_edit_permission(permission(&invited.id, true))
        .await
        .expect_err("not the client");

    assert_refused(&accept, Code::PermissionDenied, "Not authorized");
    assert_refused(&grant, Code::PermissionDenied, "Not authorized");
    assert_eq!(relationships(&mut trainer).await, [invited]);
    assert_eq!(app.sequence(NOTIFICATIONS.topic(carl.id)).await, before);
    let active = app
        .client(&carl)
        .await
        .accept_invitation(relationship(&relationships(&mut trainer).await[0].id))
        .await
        .expect("the client may")
        .into_inner();
    let accept_again = app
        .client(&carl)
        .await
        .accept_invitation(relationship(&active.id))
        .await
        .expect_err("already active");
    assert_refused(
        &accept_again,
        Code::FailedPrecondition,
        "Only a pending invitation can be accepted",
    );
}

#[tokio::test]
async fn others_relationships_look_like_missing_ones() {
    let app = spawn_app().await;
    let (tess, carl, eve) = (trainer("Tess"), TestUser::new("Carl"), trainer("Eve"));
    let invited = app
        .client(&tess)
        .await
        .invite_client(invitation(&carl, false))
        .await
        .expect("invited")
        .into_inner();
    let mut stranger = app.client(&eve).await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let refusals = [
        stranger.accept_invitation(relationship(&invited.id)).await,
        stranger.end_relationship(relationship(&invited.id)).await,
        stranger
            .set_goal_edit_permission(permission(&invited.id, true))
            .await,
        stranger.accept_invitation(relationship(&unknown)).await,
        stranger.end_relationship(relationship(&unknown)).await,
    ];

    for refused in refusals {
        assert_refused(
            &refused.expect_err("hidden"),
            Code::NotFound,
            "Relationship not found",
        );
    }
    assert!(relationships(&mut stranger).await.is_empty());
    let malformed = stranger
        .end_relationship(relationship("nope"))
        .await
        .expect_err("not an id");
    assert_refused(&malformed, Code::InvalidArgument, "Invalid relationshipId");
}
