//! The task screen's helpers, each one call to the task service as a real caller makes it:
//! `POST /demo/keys {name, budget}` creates a virtual key (as the administrator, with the
//! master key) and answers its secret once; `POST /demo/tasks {kind, taskType}` with a key's
//! secret as bearer starts a task of that key, and `GET /demo/tasks/{id}` reads it (what a
//! client asks its API for after a reconnect: request groups keep no history for
//! `GetMissedEvents`); `POST /demo/work {taskId, percentage}` is the
//! worker reporting progress (100: completion with a result); `POST /demo/spend
//! {virtualKeyId, amount}` is billing recording spend, which the budget alerts follow.

use axum::{
    extract::{rejection::JsonRejection, Path, State},
    http::HeaderMap,
    Json,
};
use pulse_proto::tasks::v1::{
    producers_client::ProducersClient, tasks_client::TasksClient,
    virtual_keys_client::VirtualKeysClient, CreateTaskRequest, CreateVirtualKeyRequest,
    GetTaskRequest, RecordSpendRequest, ReportTaskCompletedRequest, ReportTaskProgressRequest,
    Task,
};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{coaching::bearer, Demo, DemoError};
use crate::hub::{OnBehalf, TASKS};

#[derive(Debug, Deserialize)]
pub(super) struct NewKey {
    name: String,
    #[serde(default)]
    budget: Option<f64>,
}

pub(super) async fn create_key(
    State(demo): State<Demo>,
    body: Result<Json<NewKey>, JsonRejection>,
) -> Result<Json<Value>, DemoError> {
    let Json(NewKey { name, budget }) = body?;
    let mut keys = VirtualKeysClient::new(demo.channels.get(&TASKS)?);
    let created = keys
        .create_virtual_key(
            demo.as_admin()?
                .request(CreateVirtualKeyRequest { name, budget }),
        )
        .await?
        .into_inner();
    let key = created
        .key
        .ok_or_else(|| tonic::Status::internal("the task service answered no key"))?;
    Ok(Json(json!({
        "id": key.id,
        "name": key.name,
        "budget": key.budget,
        "secret": created.secret,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NewTask {
    kind: String,
    task_type: String,
}

pub(super) async fn create_task(
    State(demo): State<Demo>,
    headers: HeaderMap,
    body: Result<Json<NewTask>, JsonRejection>,
) -> Result<Json<Value>, DemoError> {
    let Json(NewTask { kind, task_type }) = body?;
    let as_key = OnBehalf::new(bearer(&headers)?).ok_or(DemoError::Unauthenticated)?;
    let mut tasks = TasksClient::new(demo.channels.get(&TASKS)?);
    let task = tasks
        .create_task(as_key.request(CreateTaskRequest { kind, task_type }))
        .await?
        .into_inner();
    Ok(Json(task_json(&task)))
}

pub(super) async fn get_task(
    State(demo): State<Demo>,
    headers: HeaderMap,
    Path(task_id): Path<Uuid>,
) -> Result<Json<Value>, DemoError> {
    let as_key = OnBehalf::new(bearer(&headers)?).ok_or(DemoError::Unauthenticated)?;
    let mut tasks = TasksClient::new(demo.channels.get(&TASKS)?);
    let task = tasks
        .get_task(as_key.request(GetTaskRequest {
            task_id: task_id.to_string(),
        }))
        .await?
        .into_inner();
    Ok(Json(task_json(&task)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Work {
    task_id: Uuid,
    percentage: i32,
}

pub(super) async fn work(
    State(demo): State<Demo>,
    body: Result<Json<Work>, JsonRejection>,
) -> Result<Json<Value>, DemoError> {
    let Json(Work {
        task_id,
        percentage,
    }) = body?;
    let as_admin = demo.as_admin()?;
    let mut producers = ProducersClient::new(demo.channels.get(&TASKS)?);
    let task_id = task_id.to_string();
    let task = match percentage {
        100 => producers
            .report_task_completed(as_admin.request(ReportTaskCompletedRequest {
                result: format!("https://media.example/{task_id}"),
                task_id,
            }))
            .await?
            .into_inner(),
        0..=99 => producers
            .report_task_progress(as_admin.request(ReportTaskProgressRequest {
                task_id,
                percentage,
                status: Some("Running".into()),
                message: Some(format!("Rendering: {percentage}%")),
            }))
            .await?
            .into_inner(),
        _ => return Err(DemoError::Invalid("percentage must be 0 to 100".into())),
    };
    Ok(Json(task_json(&task)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Spend {
    virtual_key_id: Uuid,
    amount: f64,
}

pub(super) async fn spend(
    State(demo): State<Demo>,
    body: Result<Json<Spend>, JsonRejection>,
) -> Result<Json<Value>, DemoError> {
    let Json(Spend {
        virtual_key_id,
        amount,
    }) = body?;
    let mut producers = ProducersClient::new(demo.channels.get(&TASKS)?);
    let recorded = producers
        .record_spend(demo.as_admin()?.request(RecordSpendRequest {
            virtual_key_id: virtual_key_id.to_string(),
            amount,
            description: Some("demo".into()),
        }))
        .await?
        .into_inner();
    Ok(Json(json!({ "spendId": recorded.spend_id })))
}

fn task_json(task: &Task) -> Value {
    json!({
        "id": task.id,
        "kind": task.kind,
        "taskType": task.task_type,
        "status": task.status,
        "percentage": task.percentage,
        "message": task.message,
        "result": task.result,
        "error": task.error,
    })
}
