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
use pulse_proto::tasks::{ADMIN, NAVIGATION, SPEND, SYSTEM, TASK, WEBHOOKS};
use pulse_testkit::NulInputs;

use crate::helpers::{create_key, create_task, key_id, spawn_app, uuid, TestApp};

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
        ADMIN.topic(),
        SYSTEM.topic(),
        TASK.topic(uuid(&task.id)),
        NAVIGATION.topic(uuid(&id)),
        SPEND.topic(uuid(&id)),
        WEBHOOKS.topic(uuid(&id)),
    ];
    let announced = sequences(&app, &groups).await;
    let stored = rows(&app).await;
    let mut keys = app.keys().await;
    let mut tasks = app.tasks_as(Some(&acme.secret)).await;
    let producers = app.producers().await;

    let (task_id, key) = (task.id.as_str(), id.as_str());
    let navigation = |state: NavigationState| UpdateNavigationRequest { state: Some(state) };
    let at_home = || NavigationState {
        route: "/home".into(),
        ..NavigationState::default()
    };
    let progress = |status, message| ReportTaskProgressRequest {
        task_id: task_id.into(),
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
        virtual_key_id: key.into(),
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
    NulInputs::new()
        .row("name", &keys, |mut c, nul| async move {
            c.create_virtual_key(CreateVirtualKeyRequest {
                name: nul,
                budget: None,
            })
            .await
        })
        .row("taskType", &tasks, |mut c, nul| async move {
            c.create_task(CreateTaskRequest {
                kind: "Task".into(),
                task_type: nul,
            })
            .await
        })
        .row("route", &tasks, |mut c, nul| async move {
            c.update_navigation(navigation(NavigationState {
                route: nul,
                ..NavigationState::default()
            }))
            .await
        })
        .row("conversationId", &tasks, |mut c, nul| async move {
            c.update_navigation(navigation(NavigationState {
                conversation_id: Some(nul),
                ..at_home()
            }))
            .await
        })
        .row("title", &tasks, |mut c, nul| async move {
            c.update_navigation(navigation(NavigationState {
                title: Some(nul),
                ..at_home()
            }))
            .await
        })
        .row("status", &producers, |mut c, nul| async move {
            c.report_task_progress(progress(Some(nul), None)).await
        })
        .row("message", &producers, |mut c, nul| async move {
            c.report_task_progress(progress(None, Some(nul))).await
        })
        .row("result", &producers, |mut c, nul| async move {
            c.report_task_completed(ReportTaskCompletedRequest {
                task_id: task_id.into(),
                result: nul,
            })
            .await
        })
        .row("error", &producers, |mut c, nul| async move {
            c.report_task_failed(ReportTaskFailedRequest {
                task_id: task_id.into(),
                error: nul,
            })
            .await
        })
        .row("description", &producers, |mut c, nul| async move {
            c.record_spend(RecordSpendRequest {
                virtual_key_id: key.into(),
                amount: 1.0,
                description: Some(nul),
            })
            .await
        })
        .row("provider", &producers, |mut c, nul| async move {
            c.report_provider_health(health(&nul, None)).await
        })
        .row("message", &producers, |mut c, nul| async move {
            c.report_provider_health(health("openai", Some(nul))).await
        })
        .row("provider", &producers, |mut c, nul| async move {
            c.report_rate_limit(limit(&nul, "rpm", None)).await
        })
        .row("limitType", &producers, |mut c, nul| async move {
            c.report_rate_limit(limit("openai", &nul, None)).await
        })
        .row("message", &producers, |mut c, nul| async move {
            c.report_rate_limit(limit("openai", "rpm", Some(nul))).await
        })
        .row("webhookUrl", &producers, |mut c, nul| async move {
            c.report_webhook_delivery(delivery(&nul, None)).await
        })
        .row("error", &producers, |mut c, nul| async move {
            c.report_webhook_delivery(delivery(url, Some(nul))).await
        })
        .row("component", &producers, |mut c, nul| async move {
            c.raise_system_alert(alert(&nul, "slow")).await
        })
        .row("message", &producers, |mut c, nul| async move {
            c.raise_system_alert(alert("db", &nul)).await
        })
        .row("setting", &producers, |mut c, nul| async move {
            c.report_configuration_change(change(&nul, None, None, "ops"))
                .await
        })
        .row("oldValue", &producers, |mut c, nul| async move {
            c.report_configuration_change(change("timeout", Some(nul), None, "ops"))
                .await
        })
        .row("newValue", &producers, |mut c, nul| async move {
            c.report_configuration_change(change("timeout", None, Some(nul), "ops"))
                .await
        })
        .row("changedBy", &producers, |mut c, nul| async move {
            c.report_configuration_change(change("timeout", None, None, &nul))
                .await
        })
        .assert_refused()
        .await;

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
