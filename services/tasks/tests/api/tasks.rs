//! A client's own tasks and navigation state, as its virtual key.

use pulse_proto::tasks::v1::{
    event::Kind, CreateTaskRequest, GetTaskRequest, ListTasksRequest, NavigationState,
    UpdateNavigationRequest,
};
use pulse_proto::tasks::NAVIGATION;
use pulse_testkit::{assert_refused, expect_kind};
use tonic::Code;

use crate::helpers::{create_key, create_task, key_id, spawn_app, uuid};

fn get(id: &str) -> GetTaskRequest {
    GetTaskRequest { task_id: id.into() }
}

#[tokio::test]
async fn a_new_task_is_pending_and_visible_to_its_key_only() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let other = create_key(&app, "Other", None).await;

    let task = create_task(&app, &acme.secret, "Video").await;

    assert_eq!(task.virtual_key_id, key_id(&acme));
    assert_eq!(
        (
            task.kind.as_str(),
            task.task_type.as_str(),
            task.status.as_str(),
            task.percentage
        ),
        ("Video", "video.generate", "Pending", 0)
    );
    assert_eq!(
        (
            task.message.clone(),
            task.result.clone(),
            task.error.clone()
        ),
        (None, None, None)
    );
    let mine = app
        .tasks_as(Some(&acme.secret))
        .await
        .get_task(get(&task.id))
        .await
        .expect("own task")
        .into_inner();
    assert_eq!(mine, task);
    let theirs = app
        .tasks_as(Some(&other.secret))
        .await
        .get_task(get(&task.id))
        .await
        .expect_err("another key's task");
    assert_refused(&theirs, Code::NotFound, "task not found");
    let listed = app
        .tasks_as(Some(&other.secret))
        .await
        .list_tasks(ListTasksRequest { kind: None })
        .await
        .expect("listed")
        .into_inner()
        .tasks;
    assert!(listed.is_empty());
}

#[tokio::test]
async fn tasks_are_listed_newest_first_and_filtered_by_kind() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let first = create_task(&app, &acme.secret, "Task").await;
    let video = create_task(&app, &acme.secret, "Video").await;
    let last = create_task(&app, &acme.secret, "Task").await;
    let mut tasks = app.tasks_as(Some(&acme.secret)).await;

    let all = tasks
        .list_tasks(ListTasksRequest { kind: None })
        .await
        .expect("all")
        .into_inner()
        .tasks;
    let generic = tasks
        .list_tasks(ListTasksRequest {
            kind: Some("task".into()),
        })
        .await
        .expect("tasks only")
        .into_inner()
        .tasks;

    assert_eq!(all, vec![last.clone(), video, first.clone()]);
    assert_eq!(generic, vec![last, first]);
}

#[tokio::test]
async fn task_requests_are_validated() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let mut tasks = app.tasks_as(Some(&acme.secret)).await;

    let audio = tasks
        .create_task(CreateTaskRequest {
            kind: "Audio".into(),
            task_type: "audio.generate".into(),
        })
        .await
        .expect_err("no such kind");
    let untyped = tasks
        .create_task(CreateTaskRequest {
            kind: "Task".into(),
            task_type: " ".into(),
        })
        .await
        .expect_err("no type");
    let bad_id = tasks.get_task(get("task-1")).await.expect_err("bad id");
    let unknown = tasks
        .get_task(get(&uuid::Uuid::new_v4().to_string()))
        .await
        .expect_err("unknown");
    let bad_filter = tasks
        .list_tasks(ListTasksRequest {
            kind: Some("Audio".into()),
        })
        .await
        .expect_err("no such kind");

    for refused in [&audio, &bad_filter] {
        assert_refused(
            refused,
            Code::InvalidArgument,
            "kind must be one of Task, Video, Image",
        );
    }
    assert_refused(
        &untyped,
        Code::InvalidArgument,
        "taskType must not be empty",
    );
    assert_refused(&bad_id, Code::InvalidArgument, "taskId is not a UUID");
    assert_refused(&unknown, Code::NotFound, "task not found");
}

#[tokio::test]
async fn navigation_is_stored_and_sent_to_the_keys_navigation_group() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let id = key_id(&acme);
    let mut navigation = app.subscribe(NAVIGATION.topic(uuid(&id))).await;
    let mut tasks = app.tasks_as(Some(&acme.secret)).await;

    let stored = tasks
        .update_navigation(UpdateNavigationRequest {
            state: Some(NavigationState {
                route: " /conversations/42 ".into(),
                conversation_id: Some("42".into()),
                title: Some("Launch plan".into()),
            }),
        })
        .await
        .expect("updated")
        .into_inner();

    let expected = NavigationState {
        route: "/conversations/42".into(),
        conversation_id: Some("42".into()),
        title: Some("Launch plan".into()),
    };
    assert_eq!(stored, expected);
    let event = expect_kind!(navigation.expect(1).await, NavigationUpdated);
    assert_eq!(event.virtual_key_id, id);
    assert_eq!(event.state, Some(expected));
    let db = app.db().await;
    let route: String =
        sqlx::query_scalar("SELECT route FROM navigation_states WHERE virtual_key_id = $1")
            .bind(uuid(&id))
            .fetch_one(&db)
            .await
            .expect("stored");
    assert_eq!(route, "/conversations/42");
    let stateless = tasks
        .update_navigation(UpdateNavigationRequest { state: None })
        .await
        .expect_err("no state");
    let nowhere = tasks
        .update_navigation(UpdateNavigationRequest {
            state: Some(NavigationState::default()),
        })
        .await
        .expect_err("no route");
    assert_refused(&stateless, Code::InvalidArgument, "state is required");
    assert_refused(&nowhere, Code::InvalidArgument, "route must not be empty");
}
