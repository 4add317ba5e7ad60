//! Producer reports on tasks and media requests: one event per change, on
//! the request's own group, progress only forward, finished tasks silent,
//! and concurrent reports settled by the task's row lock.

use futures::future::join_all;
use pulse_proto::tasks::v1::event::Kind;
use pulse_proto::tasks::v1::{
    ReportTaskCompletedRequest, ReportTaskFailedRequest, ReportTaskProgressRequest,
    ReportTaskStartedRequest, Task,
};
use pulse_proto::tasks::{IMAGE, TASK, VIDEO};
use pulse_testkit::{assert_refused, expect_kind};
use tonic::Code;

use crate::helpers::{
    create_key, create_task, spawn_app, spawn_app_with, uuid, AppOptions, Producers,
};

fn started(task: &Task) -> ReportTaskStartedRequest {
    ReportTaskStartedRequest {
        task_id: task.id.clone(),
    }
}

fn progress(task: &Task, percentage: i32) -> ReportTaskProgressRequest {
    ReportTaskProgressRequest {
        task_id: task.id.clone(),
        percentage,
        status: None,
        message: None,
    }
}

fn completed(task: &Task, result: &str) -> ReportTaskCompletedRequest {
    ReportTaskCompletedRequest {
        task_id: task.id.clone(),
        result: result.into(),
    }
}

fn failed(task: &Task, error: &str) -> ReportTaskFailedRequest {
    ReportTaskFailedRequest {
        task_id: task.id.clone(),
        error: error.into(),
    }
}

async fn report_progress(producers: &mut Producers, task: &Task, percentage: i32) -> Task {
    producers
        .report_task_progress(progress(task, percentage))
        .await
        .expect("progress accepted")
        .into_inner()
}

#[tokio::test]
async fn a_task_reports_started_progress_and_completed_once_each() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let task = create_task(&app, &acme.secret, "Task").await;
    let mut events = app.subscribe(TASK.topic(uuid(&task.id))).await;
    let mut producers = app.producers().await;

    let running = producers
        .report_task_started(started(&task))
        .await
        .expect("started")
        .into_inner();
    let halfway = producers
        .report_task_progress(ReportTaskProgressRequest {
            status: Some("Embedding".into()),
            message: Some("batch 3 of 6".into()),
            ..progress(&task, 50)
        })
        .await
        .expect("progress")
        .into_inner();
    let done = producers
        .report_task_completed(completed(&task, "s3://results/42.json"))
        .await
        .expect("completed")
        .into_inner();

    assert_eq!(
        (running.status.as_str(), running.percentage),
        ("Running", 0)
    );
    assert_eq!(
        (halfway.status.as_str(), halfway.percentage),
        ("Running", 50)
    );
    assert_eq!(halfway.message.as_deref(), Some("batch 3 of 6"));
    assert_eq!((done.status.as_str(), done.percentage), ("Completed", 100));
    assert_eq!(done.result.as_deref(), Some("s3://results/42.json"));
    let start = expect_kind!(events.expect(1).await, TaskStarted);
    assert_eq!(
        (
            start.task_id.as_str(),
            start.task_type.as_str(),
            start.status.as_str()
        ),
        (task.id.as_str(), "task.generate", "Running")
    );
    let step = expect_kind!(events.expect(2).await, TaskProgress);
    assert_eq!(
        (step.task_id.as_str(), step.percentage, step.status.as_str()),
        (task.id.as_str(), 50, "Embedding")
    );
    assert_eq!(step.message.as_deref(), Some("batch 3 of 6"));
    let end = expect_kind!(events.expect(3).await, TaskCompleted);
    assert_eq!(
        (
            end.task_id.as_str(),
            end.status.as_str(),
            end.result.as_str()
        ),
        (task.id.as_str(), "Completed", "s3://results/42.json")
    );
    assert_eq!(end.timestamp, done.updated_at);
}

#[tokio::test]
async fn media_requests_report_under_their_own_names_and_groups() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let video = create_task(&app, &acme.secret, "Video").await;
    let image = create_task(&app, &acme.secret, "Image").await;
    let mut videos = app.subscribe(VIDEO.topic(uuid(&video.id))).await;
    let mut images = app.subscribe(IMAGE.topic(uuid(&image.id))).await;
    let mut producers = app.producers().await;

    producers
        .report_task_started(started(&video))
        .await
        .expect("started");
    report_progress(&mut producers, &video, 40).await;
    producers
        .report_task_failed(failed(&video, "GPU out of memory"))
        .await
        .expect("failed");
    let image_running = report_progress(&mut producers, &image, 20).await;
    producers
        .report_task_completed(completed(&image, "https://cdn.example/i.png"))
        .await
        .expect("completed");

    assert_eq!(
        image_running.status, "Running",
        "progress starts a pending request"
    );
    let start = expect_kind!(videos.expect(1).await, VideoProgress);
    assert_eq!(
        (
            start.request_id.as_str(),
            start.percentage,
            start.status.as_str()
        ),
        (video.id.as_str(), 0, "Running")
    );
    let step = expect_kind!(videos.expect(2).await, VideoProgress);
    assert_eq!(
        (step.percentage, step.status.as_str(), step.message),
        (40, "Running", None)
    );
    let failure = expect_kind!(videos.expect(3).await, VideoFailed);
    assert_eq!(
        (
            failure.request_id.as_str(),
            failure.status.as_str(),
            failure.error.as_str()
        ),
        (video.id.as_str(), "Failed", "GPU out of memory")
    );
    let step = expect_kind!(images.expect(1).await, ImageProgress);
    assert_eq!(
        (step.request_id.as_str(), step.percentage),
        (image.id.as_str(), 20)
    );
    let done = expect_kind!(images.expect(2).await, ImageCompleted);
    assert_eq!(
        (done.status.as_str(), done.result.as_str()),
        ("Completed", "https://cdn.example/i.png")
    );
}

#[tokio::test]
async fn progress_that_does_not_move_forward_is_ignored() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let task = create_task(&app, &acme.secret, "Video").await;
    let mut events = app.subscribe(VIDEO.topic(uuid(&task.id))).await;
    let mut producers = app.producers().await;

    let at_60 = report_progress(&mut producers, &task, 60).await;
    let late_40 = report_progress(&mut producers, &task, 40).await;
    let repeated = report_progress(&mut producers, &task, 60).await;
    let started_again = producers
        .report_task_started(started(&task))
        .await
        .expect("a second start is ignored")
        .into_inner();
    report_progress(&mut producers, &task, 70).await;

    assert_eq!(late_40, at_60, "the stored task, unchanged");
    assert_eq!(repeated, at_60);
    assert_eq!(started_again, at_60);
    let first = expect_kind!(events.expect(1).await, VideoProgress);
    let next = expect_kind!(events.expect(2).await, VideoProgress);
    assert_eq!(
        (first.percentage, next.percentage),
        (60, 70),
        "40 never broadcast"
    );
}

#[tokio::test]
async fn finished_tasks_ignore_every_report_and_stay_silent() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let done = create_task(&app, &acme.secret, "Task").await;
    let broken = create_task(&app, &acme.secret, "Image").await;
    let mut done_events = app.subscribe(TASK.topic(uuid(&done.id))).await;
    let mut broken_events = app.subscribe(IMAGE.topic(uuid(&broken.id))).await;
    let mut producers = app.producers().await;
    let completed_task = producers
        .report_task_completed(completed(&done, ""))
        .await
        .expect("completed")
        .into_inner();
    let failed_task = producers
        .report_task_failed(failed(&broken, "timeout"))
        .await
        .expect("failed")
        .into_inner();
    let end = expect_kind!(done_events.expect(1).await, TaskCompleted);
    assert_eq!(end.result, "", "a task may complete without a result");
    expect_kind!(broken_events.expect(1).await, ImageFailed);

    for (task, stored) in [(&done, &completed_task), (&broken, &failed_task)] {
        let replies = [
            producers.report_task_started(started(task)).await,
            producers.report_task_progress(progress(task, 99)).await,
            producers
                .report_task_completed(completed(task, "late"))
                .await,
            producers.report_task_failed(failed(task, "late")).await,
        ];
        for reply in replies {
            assert_eq!(&reply.expect("retries are fine").into_inner(), stored);
        }
    }

    assert_eq!(app.sequence(TASK.topic(uuid(&done.id))).await, 1);
    assert_eq!(app.sequence(IMAGE.topic(uuid(&broken.id))).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_failure_reports_broadcast_one_failure() {
    let app = spawn_app_with(AppOptions {
        db_max_connections: 10,
        ..AppOptions::default()
    })
    .await;
    let acme = create_key(&app, "Acme", None).await;
    let mut workers = Vec::new();
    for _ in 0..20 {
        workers.push(app.producers().await);
    }

    // A few rounds, each on a new task, to give a missing lock every chance
    // to show.
    for _ in 0..3 {
        let task = create_task(&app, &acme.secret, "Task").await;
        let mut events = app.subscribe(TASK.topic(uuid(&task.id))).await;
        let replies = join_all(workers.iter_mut().map(|worker| {
            let request = failed(&task, "provider unavailable");
            async move { worker.report_task_failed(request).await }
        }))
        .await;

        for reply in replies {
            let stored = reply.expect("every report succeeds").into_inner();
            assert_eq!(stored.status, "Failed");
        }
        let failure = expect_kind!(events.expect(1).await, TaskFailed);
        assert_eq!(failure.error, "provider unavailable");
        assert_eq!(app.sequence(TASK.topic(uuid(&task.id))).await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_progress_reports_are_broadcast_in_rising_order_only() {
    let app = spawn_app_with(AppOptions {
        db_max_connections: 10,
        ..AppOptions::default()
    })
    .await;
    let acme = create_key(&app, "Acme", None).await;
    let task = create_task(&app, &acme.secret, "Video").await;
    let mut events = app.subscribe(VIDEO.topic(uuid(&task.id))).await;
    let mut workers = Vec::new();
    for _ in 0..10 {
        workers.push(app.producers().await);
    }

    // Ten workers, each reporting every tenth percentage from the top down,
    // all at once: plenty of lower reports arrive after higher ones.
    join_all(workers.into_iter().enumerate().map(|(n, mut worker)| {
        let task = task.clone();
        async move {
            for step in (0..10).rev() {
                let percentage = i32::try_from(step * 10 + n + 1).expect("small");
                report_progress(&mut worker, &task, percentage).await;
            }
        }
    }))
    .await;

    let sent = app.sequence(VIDEO.topic(uuid(&task.id))).await;
    let mut last = 0;
    for sequence in 1..=sent {
        let Ok(Kind::VideoProgress(step)) = Kind::try_from(events.expect(sequence).await) else {
            panic!("expected VideoProgress");
        };
        assert!(step.percentage > last, "{} after {last}", step.percentage);
        last = step.percentage;
    }
    assert_eq!(last, 100, "the highest report is the last broadcast");
}

#[tokio::test]
async fn task_reports_are_validated() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let task = create_task(&app, &acme.secret, "Task").await;
    let mut producers = app.producers().await;
    let nowhere = Task {
        id: uuid::Uuid::new_v4().to_string(),
        ..task.clone()
    };

    let above = producers
        .report_task_progress(progress(&task, 101))
        .await
        .expect_err("over 100");
    let below = producers
        .report_task_progress(progress(&task, -1))
        .await
        .expect_err("below 0");
    let unexplained = producers
        .report_task_failed(failed(&task, " "))
        .await
        .expect_err("no error");
    let unknown = producers
        .report_task_started(started(&nowhere))
        .await
        .expect_err("unknown");
    let bad_id = producers
        .report_task_started(ReportTaskStartedRequest {
            task_id: "42".into(),
        })
        .await
        .expect_err("bad id");

    for refused in [&above, &below] {
        assert_refused(
            refused,
            Code::InvalidArgument,
            "percentage must be between 0 and 100",
        );
    }
    assert_refused(
        &unexplained,
        Code::InvalidArgument,
        "error must not be empty",
    );
    assert_refused(&unknown, Code::NotFound, "task not found");
    assert_refused(&bad_id, Code::InvalidArgument, "taskId is not a UUID");
    assert_eq!(app.sequence(TASK.topic(uuid(&task.id))).await, 0);
}
