//! Goals: assigned only under an active relationship that allows it,
//! progress recorded by the owner and reported to their active trainers.

use pulse_proto::coaching::v1::{
    event::Kind, GoalInput, ListGoalProgressRequest, ListGoalsRequest, UpdateGoalProgressRequest,
};
use pulse_proto::coaching::GOALS;
use pulse_testkit::{assert_refused, expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{
    activate, assign, assignment, goal_input, invitation, relationship, spawn_app, trainer, Client,
};
use crate::relationships::permission;

pub fn progress(goal_id: &str, value: f64, notes: Option<&str>) -> UpdateGoalProgressRequest {
    UpdateGoalProgressRequest {
        goal_id: goal_id.into(),
        value,
        notes: notes.map(Into::into),
    }
}

async fn goals_of(
    client: &mut Client,
    user: Option<&TestUser>,
) -> Result<Vec<String>, tonic::Status> {
    let goals = client
        .list_goals(ListGoalsRequest {
            user_id: user.map(|user| user.id.to_string()),
        })
        .await?
        .into_inner()
        .goals;
    Ok(goals.into_iter().map(|goal| goal.id).collect())
}

#[tokio::test]
async fn a_trainer_allowed_to_edit_goals_assigns_one_and_the_client_is_told() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    activate(&mut trainer, &mut client, &carl, true).await;
    let mut client_goals = app.subscribe(GOALS.topic(carl.id)).await;

    let goal = trainer
        .assign_goal(assignment(&carl, goal_input(" WeightLoss ")))
        .await
        .expect("assigned")
        .into_inner();

    assert_eq!(goal.user_id, carl.id.to_string());
    assert_eq!(goal.trainer_id, Some(tess.id.to_string()));
    assert_eq!(goal.goal_type, "WeightLoss");
    assert_eq!(
        (
            goal.target_calories,
            goal.target_protein_grams,
            goal.target_carbs_grams
        ),
        (Some(1800), Some(140), None)
    );
    assert_eq!(goal.target_date.as_deref(), Some("2030-06-30"));
    let assigned = expect_kind!(client_goals.expect_to_everyone(1).await, GoalAssigned);
    assert_eq!(assigned, goal);
    assert_eq!(app.sequence(GOALS.topic(carl.id)).await, 1);
    assert_eq!(app.sequence(GOALS.topic(tess.id)).await, 0);
    assert_eq!(
        goals_of(&mut client, None).await.expect("own"),
        std::slice::from_ref(&goal.id)
    );
    assert_eq!(
        goals_of(&mut trainer, Some(&carl)).await.expect("client's"),
        [goal.id]
    );
}

#[tokio::test]
async fn without_an_active_relationship_allowing_it_no_goal_is_assigned() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    let mut attempts = Vec::new();

    attempts.push(
        trainer
            .assign_goal(assignment(&carl, goal_input("Cut")))
            .await,
    );
    let invited = trainer
        .invite_client(invitation(&carl, true))
        .await
        .expect("invited")
        .into_inner();
    attempts.push(
        trainer
            .assign_goal(assignment(&carl, goal_input("Cut")))
            .await,
    );
    client
        .accept_invitation(relationship(&invited.id))
        .await
        .expect("accepted");
    client
        .set_goal_edit_permission(permission(&invited.id, false))
        .await
        .expect("withdrawn");
    attempts.push(
        trainer
            .assign_goal(assignment(&carl, goal_input("Cut")))
            .await,
    );
    client
        .set_goal_edit_permission(permission(&invited.id, true))
        .await
        .expect("granted");
    let nina = TestUser::new("Nina");
    let mut without_role = app
        .client(&TestUser {
            id: tess.id,
            ..nina.clone()
        })
        .await;
    attempts.push(
        without_role
            .assign_goal(assignment(&carl, goal_input("Cut")))
            .await,
    );
    let other_trainer = crate::helpers::trainer("Eve");
    attempts.push(
        app.client(&other_trainer)
            .await
            .assign_goal(assignment(&carl, goal_input("Cut")))
            .await,
    );
    client
        .end_relationship(relationship(&invited.id))
        .await
        .expect("ended");
    attempts.push(
        trainer
            .assign_goal(assignment(&carl, goal_input("Cut")))
            .await,
    );

    assert_eq!(attempts.len(), 6);
    for attempt in attempts {
        assert_refused(
            &attempt.expect_err("refused"),
            Code::PermissionDenied,
            "Not authorized to assign goals to this client",
        );
    }
    assert!(goals_of(&mut client, None).await.expect("own").is_empty());
    assert_eq!(
        app.sequence(GOALS.topic(carl.id)).await,
        0,
        "nothing announced"
    );
}

#[tokio::test]
async fn an_invalid_goal_is_refused_by_field() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    activate(&mut trainer, &mut app.client(&carl).await, &carl, true).await;
    let cases = [
        (
            GoalInput {
                r#type: "  ".into(),
                ..goal_input("x")
            },
            "Goal type cannot be empty",
        ),
        (
            GoalInput {
                target_calories: Some(-1),
                ..goal_input("Cut")
            },
            "targetCalories cannot be negative",
        ),
        (
            GoalInput {
                target_carbs_grams: Some(-20),
                ..goal_input("Cut")
            },
            "targetCarbsGrams cannot be negative",
        ),
        (
            GoalInput {
                target_date: Some("2030-02-30".into()),
                ..goal_input("Cut")
            },
            "targetDate must be a date (YYYY-MM-DD)",
        ),
        (
            GoalInput {
                target_date: Some("30/06/2030".into()),
                ..goal_input("Cut")
            },
            "targetDate must be a date (YYYY-MM-DD)",
        ),
    ];

    for (goal, message) in cases {
        let refused = trainer
            .assign_goal(assignment(&carl, goal))
            .await
            .expect_err(message);
        assert_refused(&refused, Code::InvalidArgument, message);
    }
    let missing = trainer
        .assign_goal(pulse_proto::coaching::v1::AssignGoalRequest {
            client_id: carl.id.to_string(),
            goal: None,
        })
        .await
        .expect_err("no goal");
    assert_refused(&missing, Code::InvalidArgument, "Goal is required");
    assert_eq!(app.sequence(GOALS.topic(carl.id)).await, 0);
}

#[tokio::test]
async fn progress_reaches_every_active_trainer_and_no_one_else() {
    let app = spawn_app().await;
    let (tess, eve, pat, carl) = (
        trainer("Tess"),
        trainer("Eve"),
        trainer("Pat"),
        TestUser::new("Carl"),
    );
    let mut client = app.client(&carl).await;
    let mut tess_client = app.client(&tess).await;
    activate(&mut tess_client, &mut client, &carl, true).await;
    activate(&mut app.client(&eve).await, &mut client, &carl, false).await;
    app.client(&pat)
        .await
        .invite_client(invitation(&carl, true))
        .await
        .expect("only pending");
    let goal = assign(&mut tess_client, &carl, "Cut").await;
    let mut tess_goals = app.subscribe(GOALS.topic(tess.id)).await;
    let mut eve_goals = app.subscribe(GOALS.topic(eve.id)).await;

    let recorded = client
        .update_goal_progress(progress(&goal.id, 1750.5, Some(" felt good ")))
        .await
        .expect("recorded")
        .into_inner();

    assert_eq!(
        (recorded.goal_id.as_str(), recorded.user_id.as_str()),
        (goal.id.as_str(), carl.id.to_string().as_str())
    );
    assert_eq!(
        (recorded.value, recorded.notes.as_deref()),
        (1750.5, Some("felt good"))
    );
    for events in [&mut tess_goals, &mut eve_goals] {
        let update = expect_kind!(events.expect_to_everyone(1).await, ClientProgressUpdate);
        assert_eq!(update.client_id, carl.id.to_string());
        assert_eq!(update.goal_id, goal.id);
        assert_eq!(
            (update.value, update.notes.as_deref()),
            (1750.5, Some("felt good"))
        );
    }
    assert_eq!(app.sequence(GOALS.topic(tess.id)).await, 1);
    assert_eq!(app.sequence(GOALS.topic(eve.id)).await, 1);
    assert_eq!(
        app.sequence(GOALS.topic(pat.id)).await,
        0,
        "pending is not active"
    );
}

#[tokio::test]
async fn progress_without_an_active_trainer_is_stored_and_announced_to_no_one() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    let active = activate(&mut trainer, &mut client, &carl, true).await;
    let goal = assign(&mut trainer, &carl, "Cut").await;
    client
        .end_relationship(relationship(&active.id))
        .await
        .expect("ended");

    let recorded = client
        .update_goal_progress(progress(&goal.id, 2000.0, None))
        .await
        .expect("recorded")
        .into_inner();

    assert_eq!(recorded.notes, None);
    assert_eq!(app.sequence(GOALS.topic(tess.id)).await, 0);
    let stored = client
        .list_goal_progress(ListGoalProgressRequest {
            goal_id: goal.id.clone(),
        })
        .await
        .expect("own progress")
        .into_inner()
        .progress;
    assert_eq!(stored, [recorded]);
    let former = trainer
        .list_goal_progress(ListGoalProgressRequest { goal_id: goal.id })
        .await
        .expect_err("no longer their trainer");
    assert_refused(&former, Code::PermissionDenied, "Not authorized");
}

#[tokio::test]
async fn only_the_owner_records_progress_and_the_value_must_be_a_number() {
    let app = spawn_app().await;
    let (tess, carl) = (trainer("Tess"), TestUser::new("Carl"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    activate(&mut trainer, &mut client, &carl, true).await;
    let goal = assign(&mut trainer, &carl, "Cut").await;

    let by_trainer = trainer
        .update_goal_progress(progress(&goal.id, 1.0, None))
        .await
        .expect_err("not the owner");
    let unknown = client
        .update_goal_progress(progress(&uuid::Uuid::new_v4().to_string(), 1.0, None))
        .await
        .expect_err("no such goal");
    let not_a_number = client
        .update_goal_progress(progress(&goal.id, f64::NAN, None))
        .await
        .expect_err("NaN");
    let infinite = client
        .update_goal_progress(progress(&goal.id, f64::INFINITY, None))
        .await
        .expect_err("infinite");

    assert_refused(&by_trainer, Code::PermissionDenied, "Not authorized");
    assert_refused(&unknown, Code::PermissionDenied, "Not authorized");
    assert_refused(
        &not_a_number,
        Code::InvalidArgument,
        "value must be a finite number",
    );
    assert_refused(
        &infinite,
        Code::InvalidArgument,
        "value must be a finite number",
    );
    let stored = client
        .list_goal_progress(ListGoalProgressRequest { goal_id: goal.id })
        .await
        .expect("own progress")
        .into_inner()
        .progress;
    assert!(stored.is_empty());
    assert_eq!(app.sequence(GOALS.topic(tess.id)).await, 0);
}

#[tokio::test]
async fn goals_are_visible_to_their_owner_and_active_trainers_only() {
    let app = spawn_app().await;
    let (tess, carl, eve) = (trainer("Tess"), TestUser::new("Carl"), trainer("Eve"));
    let mut trainer = app.client(&tess).await;
    let mut client = app.client(&carl).await;
    activate(&mut trainer, &mut client, &carl, true).await;
    let older = assign(&mut trainer, &carl, "Cut").await;
    let newer = assign(&mut trainer, &carl, "Bulk").await;
    let mut stranger = app.client(&eve).await;
    stranger
        .invite_client(invitation(&carl, true))
        .await
        .expect("pending only");

    assert_eq!(
        goals_of(&mut client, Some(&carl))
            .await
            .expect("own, named"),
        [newer.id.clone(), older.id.clone()],
        "newest first"
    );
    let refusals = [
        goals_of(&mut stranger, Some(&carl))
            .await
            .expect_err("pending trainer"),
        goals_of(&mut client, Some(&tess))
            .await
            .expect_err("client is no trainer"),
        stranger
            .list_goal_progress(ListGoalProgressRequest {
                goal_id: older.id.clone(),
            })
            .await
            .expect_err("pending trainer"),
        stranger
            .list_goal_progress(ListGoalProgressRequest {
                goal_id: uuid::Uuid::new_v4().to_string(),
            })
            .await
            .expect_err("no such goal"),
    ];
    for refused in &refusals {
        assert_refused(refused, Code::PermissionDenied, "Not authorized");
    }
    let malformed = client
        .list_goals(ListGoalsRequest {
            user_id: Some("carl".into()),
        })
        .await
        .expect_err("not an id");
    assert_refused(&malformed, Code::InvalidArgument, "Invalid userId");
    client
        .update_goal_progress(progress(&older.id, 1.0, None))
        .await
        .expect("recorded");
    let seen_by_trainer = trainer
        .list_goal_progress(ListGoalProgressRequest { goal_id: older.id })
        .await
        .expect("active trainer")
        .into_inner()
        .progress;
    assert_eq!(seen_by_trainer.len(), 1);
}
