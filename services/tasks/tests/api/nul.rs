//! A NUL character, the one PostgreSQL text cannot hold, is refused in every
//! text the service stores or announces, with INVALID_ARGUMENT naming the
//! field: nothing is written and nothing announced, where letting it through
//! would fail in the database as an internal error.

use pulse_bus::Topic;
use pulse_proto::tasks::v1::{
    CreateTaskRequest, CreateVirtualKeyRequest, GetTaskRequest, ListVirtualKeysRequest,
    NavigationState, RaiseSystemAlertRequest, RecordSpendRequest, ReportConfigurationChangeRequest,
    ReportProviderHealthRequest, ReportRateLimitRequest, ReportTaskCompletedRequest,
    ReportTaskFailedRequest, ReportTaskProgressRequest, ReportWebhookDeliveryRequest,
    UpdateNavigationRequest,
};
use pulse_testkit::assert_refused;
use tonic::{Code, Status};

use crate::helpers::{create_key, create_task, key_id, spawn_app, uuid, TestApp};

/// Text PostgreSQL cannot store: it holds every character but NUL.
const NUL: &str = "free\0range";

fn nul() -> Option<String> {
    Some(NUL.to_owned())
}

/// Each refusal with the field it must name.
fn assert_nul_refused(refusals: Vec<(Result<(), Status>, &str)>) {
    for (outcome, field) in refusals {
        let message = format!("{field} cannot contain NUL characters");
        assert_refused(&outcome.expect_err(field), Code::InvalidArgument, &message);
    }
}

/// The sequence of each group's last event.
async fn sequences(app: &TestApp, groups: &[Topic]) -> Vec<u64> {
    let mut sequences = Vec::new();
    for group in groups {
        sequences.push(app.sequence(*group).await);
    }
    sequences
}

/// Rows in each table the refused calls would have written to.
async fn rows(app: &TestApp) -> Vec<i64> {
    let db = app.db().await;
    let mut counts = Vec::new();
    for table in [
        "virtual_keys",
        "tasks",
        "navigation_states",
        "spend_records",
        "provider_health",
        "rate_limit_warnings",
        "system_alerts",
    ] {
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&db)
            .await
            .expect("count");
        counts.push(count);
    }
    counts
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let id = key_id(&acme);
    let task = create_task(&app, &acme.secret, "Task").await;
    let groups = [
        Topic::Admin,
        Topic::System,
        Topic::Task(uuid(&task.id)),
        Topic::Navigation(uuid(&id)),
        Topic::Spend(uuid(&id)),
        Topic::Webhooks(uuid(&id)),
    ];
    let announced = sequences(&app, &groups).await;
    let stored = rows(&app).await;
    let mut keys = app.keys().await;
    let mut tasks = app.tasks_as(Some(&acme.secret)).await;
    let mut producers = app.producers().await;

    let named = keys
        .create_virtual_key(CreateVirtualKeyRequest {
            name: NUL.into(),
            budget: None,
        })
        .await;
    assert_nul_refused(vec![(named.map(|_| ()), "name")]);

    let typed = tasks
        .create_task(CreateTaskRequest {
            kind: "Task".into(),
            task_type: NUL.into(),
        })
        .await;
    let navigation = |state: NavigationState| UpdateNavigationRequest { state: Some(state) };
    let at_home = || NavigationState {
        route: "/home".into(),
        ..NavigationState::default()
    };
    let routed = tasks
        .update_navigation(navigation(NavigationState {
            route: NUL.into(),
            ..NavigationState::default()
        }))
        .await;
    let in_conversation = tasks
        .update_navigation(navigation(NavigationState {
            conversation_id: nul(),
            ..at_home()
        }))
        .await;
    let titled = tasks
        .update_navigation(navigation(NavigationState {
            title: nul(),
            ..at_home()
        }))
        .await;
    assert_nul_refused(vec![
        (typed.map(|_| ()), "taskType"),
        (routed.map(|_| ()), "route"),
        (in_conversation.map(|_| ()), "conversationId"),
        (titled.map(|_| ()), "title"),
    ]);

    let progress = |status, message| ReportTaskProgressRequest {
        task_id: task.id.clone(),
        percentage: 10,
        status,
        message,
    };
    let health = |provider: &str, message| ReportProviderHealthRequest {
        provider: provider.into(),
        status: "Degraded".into(),
        message,
    };
    let limit = |provider: &str, limit_type: &str, message| ReportRateLimitRequest {
        provider: provider.into(),
        limit_type: limit_type.into(),
        usage_percent: 90,
        message,
    };
    let delivery = |webhook_url: &str, error| ReportWebhookDeliveryRequest {
        virtual_key_id: id.clone(),
        webhook_url: webhook_url.into(),
        task_id: None,
        status_code: Some(500),
        attempt: 1,
        delivered: false,
        error,
        will_retry: true,
    };
    let alert = |component: &str, message: &str| RaiseSystemAlertRequest {
        severity: "Warning".into(),
        component: component.into(),
        message: message.into(),
    };
    let change =
        |setting: &str, old_value, new_value, changed_by: &str| ReportConfigurationChangeRequest {
            setting: setting.into(),
            old_value,
            new_value,
            changed_by: changed_by.into(),
        };
    let url = "https://hooks.example/acme";
    let refusals = vec![
        (
            producers
                .report_task_progress(progress(nul(), None))
                .await
                .map(|_| ()),
            "status",
        ),
        (
            producers
                .report_task_progress(progress(None, nul()))
                .await
                .map(|_| ()),
            "message",
        ),
        (
            producers
                .report_task_completed(ReportTaskCompletedRequest {
                    task_id: task.id.clone(),
                    result: NUL.into(),
                })
                .await
                .map(|_| ()),
            "result",
        ),
        (
            producers
                .report_task_failed(ReportTaskFailedRequest {
                    task_id: task.id.clone(),
                    error: NUL.into(),
                })
                .await
                .map(|_| ()),
            "error",
        ),
        (
            producers
                .record_spend(RecordSpendRequest {
                    virtual_key_id: id.clone(),
                    amount: 1.0,
                    description: nul(),
                })
                .await
                .map(|_| ()),
            "description",
        ),
        (
            producers
                .report_provider_health(health(NUL, None))
                .await
                .map(|_| ()),
            "provider",
        ),
        (
            producers
                .report_provider_health(health("openai", nul()))
                .await
                .map(|_| ()),
            "message",
        ),
        (
            producers
                .report_rate_limit(limit(NUL, "rpm", None))
                .await
                .map(|_| ()),
            "provider",
        ),
        (
            producers
                .report_rate_limit(limit("openai", NUL, None))
                .await
                .map(|_| ()),
            "limitType",
        ),
        (
            producers
                .report_rate_limit(limit("openai", "rpm", nul()))
                .await
                .map(|_| ()),
            "message",
        ),
        (
            producers
                .report_webhook_delivery(delivery(NUL, None))
                .await
                .map(|_| ()),
            "webhookUrl",
        ),
        (
            producers
                .report_webhook_delivery(delivery(url, nul()))
                .await
                .map(|_| ()),
            "error",
        ),
        (
            producers
                .raise_system_alert(alert(NUL, "slow"))
                .await
                .map(|_| ()),
            "component",
        ),
        (
            producers
                .raise_system_alert(alert("db", NUL))
                .await
                .map(|_| ()),
            "message",
        ),
        (
            producers
                .report_configuration_change(change(NUL, None, None, "ops"))
                .await
                .map(|_| ()),
            "setting",
        ),
        (
            producers
                .report_configuration_change(change("timeout", nul(), None, "ops"))
                .await
                .map(|_| ()),
            "oldValue",
        ),
        (
            producers
                .report_configuration_change(change("timeout", None, nul(), "ops"))
                .await
                .map(|_| ()),
            "newValue",
        ),
        (
            producers
                .report_configuration_change(change("timeout", None, None, NUL))
                .await
                .map(|_| ()),
            "changedBy",
        ),
    ];
    assert_nul_refused(refusals);

    let listed = keys
        .list_virtual_keys(ListVirtualKeysRequest {})
        .await
        .expect("listed")
        .into_inner()
        .keys;
    assert_eq!(
        listed,
        [acme.key.clone().expect("key")],
        "no key was created"
    );
    let unchanged = tasks
        .get_task(GetTaskRequest {
            task_id: task.id.clone(),
        })
        .await
        .expect("task")
        .into_inner();
    assert_eq!(unchanged, task, "no report reached the task");
    assert_eq!(rows(&app).await, stored, "nothing was stored");
    assert_eq!(
        sequences(&app, &groups).await,
        announced,
        "nothing was announced"
    );
}
