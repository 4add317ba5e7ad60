//! System-wide notices from producers: provider health (only changes),
//! rate limits, webhook deliveries per key, alerts and configuration
//! changes for admins.

use pulse_proto::tasks::v1::{
    event::Kind, RaiseSystemAlertRequest, ReportConfigurationChangeRequest,
    ReportProviderHealthRequest, ReportRateLimitRequest, ReportWebhookDeliveryRequest,
};
use pulse_proto::tasks::{ADMIN, SYSTEM, WEBHOOKS};
use pulse_testkit::{assert_refused, expect_kind};
use tonic::Code;

use crate::helpers::{create_key, key_id, spawn_app, uuid};

fn health(provider: &str, status: &str, message: Option<&str>) -> ReportProviderHealthRequest {
    ReportProviderHealthRequest {
        provider: provider.into(),
        status: status.into(),
        message: message.map(Into::into),
    }
}

fn rate_limit(usage_percent: i32) -> ReportRateLimitRequest {
    ReportRateLimitRequest {
        provider: "openai".into(),
        limit_type: "requests_per_minute".into(),
        usage_percent,
        message: None,
    }
}

fn delivery(virtual_key_id: &str, delivered: bool) -> ReportWebhookDeliveryRequest {
    ReportWebhookDeliveryRequest {
        virtual_key_id: virtual_key_id.into(),
        webhook_url: "https://hooks.example/acme".into(),
        task_id: None,
        status_code: Some(200),
        attempt: 1,
        delivered,
        error: None,
        will_retry: false,
    }
}

#[tokio::test]
async fn only_a_change_of_provider_health_is_announced() {
    let app = spawn_app().await;
    let mut system = app.subscribe(SYSTEM.topic()).await;
    let mut producers = app.producers().await;

    let mut changed = Vec::new();
    for report in [
        health("openai", "Degraded", None),
        health("openai", "degraded", Some("still slow")),
        health("openai", "Healthy", Some("Recovered")),
    ] {
        let reply = producers
            .report_provider_health(report)
            .await
            .expect("reported");
        changed.push(reply.into_inner().changed);
    }

    assert_eq!(changed, vec![true, false, true]);
    let first = expect_kind!(system.expect(1).await, ProviderHealthChanged);
    assert_eq!(
        (
            first.provider.as_str(),
            first.status.as_str(),
            first.message.as_str()
        ),
        ("openai", "Degraded", "Provider openai is now Degraded")
    );
    let second = expect_kind!(system.expect(2).await, ProviderHealthChanged);
    assert_eq!(
        (second.status.as_str(), second.message.as_str()),
        ("Healthy", "Recovered")
    );
    let db = app.db().await;
    let stored: (String, String) =
        sqlx::query_as("SELECT status, message FROM provider_health WHERE provider = 'openai'")
            .fetch_one(&db)
            .await
            .expect("stored");
    assert_eq!(stored, ("Healthy".to_owned(), "Recovered".to_owned()));
    assert_eq!(app.sequence(SYSTEM.topic()).await, 2);
}

#[tokio::test]
async fn rate_limit_warnings_are_stored_and_sent_to_everyone() {
    let app = spawn_app().await;
    let mut system = app.subscribe(SYSTEM.topic()).await;

    app.producers()
        .await
        .report_rate_limit(rate_limit(85))
        .await
        .expect("reported");

    let warning = expect_kind!(system.expect(1).await, RateLimitWarning);
    assert_eq!(
        (
            warning.provider.as_str(),
            warning.limit_type.as_str(),
            warning.usage_percent
        ),
        ("openai", "requests_per_minute", 85)
    );
    assert_eq!(
        warning.message,
        "Provider openai has used 85% of its requests_per_minute limit"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM rate_limit_warnings")
        .fetch_one(&app.db().await)
        .await
        .expect("count");
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn webhook_deliveries_go_to_their_keys_webhook_group() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let id = key_id(&acme);
    let mut webhooks = app.subscribe(WEBHOOKS.topic(uuid(&id))).await;
    let mut producers = app.producers().await;
    let task_id = uuid::Uuid::new_v4().to_string();

    producers
        .report_webhook_delivery(ReportWebhookDeliveryRequest {
            task_id: Some(task_id.clone()),
            ..delivery(&id, true)
        })
        .await
        .expect("delivered");
    producers
        .report_webhook_delivery(ReportWebhookDeliveryRequest {
            status_code: Some(503),
            attempt: 2,
            error: Some("Service Unavailable".into()),
            will_retry: true,
            ..delivery(&id, false)
        })
        .await
        .expect("failed");
    let unknown = producers
        .report_webhook_delivery(delivery(&uuid::Uuid::new_v4().to_string(), true))
        .await
        .expect_err("no such key");

    let delivered = expect_kind!(webhooks.expect(1).await, WebhookDelivered);
    assert_eq!(
        (
            delivered.virtual_key_id.as_str(),
            delivered.webhook_url.as_str()
        ),
        (id.as_str(), "https://hooks.example/acme")
    );
    assert_eq!(
        (delivered.task_id, delivered.status_code, delivered.attempt),
        (Some(task_id), 200, 1)
    );
    let failed = expect_kind!(webhooks.expect(2).await, WebhookFailed);
    assert_eq!(
        (
            failed.status_code,
            failed.attempt,
            failed.error.as_str(),
            failed.will_retry
        ),
        (Some(503), 2, "Service Unavailable", true)
    );
    assert_eq!(failed.task_id, None);
    assert_refused(&unknown, Code::NotFound, "virtual key not found");
}

#[tokio::test]
async fn alerts_and_configuration_changes_reach_the_admins() {
    let app = spawn_app().await;
    let mut admin = app.subscribe(ADMIN.topic()).await;
    let mut producers = app.producers().await;

    let raised = producers
        .raise_system_alert(RaiseSystemAlertRequest {
            severity: "critical".into(),
            component: "billing".into(),
            message: "Ledger out of sync".into(),
        })
        .await
        .expect("raised")
        .into_inner();
    producers
        .report_configuration_change(ReportConfigurationChangeRequest {
            setting: "routing:defaultProvider".into(),
            old_value: Some("openai".into()),
            new_value: Some("anthropic".into()),
            changed_by: "ops@example.com".into(),
        })
        .await
        .expect("reported");

    let alert = expect_kind!(admin.expect(1).await, SystemAlert);
    assert_eq!(
        (
            alert.id.as_str(),
            alert.severity.as_str(),
            alert.component.as_str()
        ),
        (raised.alert_id.as_str(), "Critical", "billing")
    );
    assert_eq!(alert.message, "Ledger out of sync");
    let change = expect_kind!(admin.expect(2).await, ConfigurationChanged);
    assert_eq!(change.setting, "routing:defaultProvider");
    assert_eq!(
        (change.old_value.as_deref(), change.new_value.as_deref()),
        (Some("openai"), Some("anthropic"))
    );
    assert_eq!(change.changed_by, "ops@example.com");
    let stored: String = sqlx::query_scalar("SELECT severity FROM system_alerts WHERE id = $1")
        .bind(uuid(&raised.alert_id))
        .fetch_one(&app.db().await)
        .await
        .expect("stored");
    assert_eq!(stored, "Critical");
}

#[tokio::test]
async fn producer_reports_are_validated_and_change_nothing_when_refused() {
    let app = spawn_app().await;
    let acme = create_key(&app, "Acme", None).await;
    let mut producers = app.producers().await;

    let cases = [
        (
            producers
                .report_provider_health(health("openai", "Down", None))
                .await
                .map(|_| ()),
            "status must be one of Healthy, Degraded, Unhealthy",
        ),
        (
            producers
                .report_provider_health(health(" ", "Healthy", None))
                .await
                .map(|_| ()),
            "provider must not be empty",
        ),
        (
            producers
                .report_rate_limit(rate_limit(120))
                .await
                .map(|_| ()),
            "usagePercent must be between 0 and 100",
        ),
        (
            producers
                .raise_system_alert(RaiseSystemAlertRequest {
                    severity: "Fatal".into(),
                    component: "db".into(),
                    message: "down".into(),
                })
                .await
                .map(|_| ()),
            "severity must be one of Info, Warning, Critical",
        ),
        (
            producers
                .raise_system_alert(RaiseSystemAlertRequest {
                    severity: "Info".into(),
                    component: "".into(),
                    message: "hello".into(),
                })
                .await
                .map(|_| ()),
            "component must not be empty",
        ),
        (
            producers
                .report_configuration_change(ReportConfigurationChangeRequest {
                    setting: "x".into(),
                    old_value: None,
                    new_value: None,
                    changed_by: " ".into(),
                })
                .await
                .map(|_| ()),
            "changedBy must not be empty",
        ),
        (
            producers
                .report_webhook_delivery(ReportWebhookDeliveryRequest {
                    status_code: None,
                    ..delivery(&key_id(&acme), true)
                })
                .await
                .map(|_| ()),
            "statusCode is required for a delivered webhook",
        ),
        (
            producers
                .report_webhook_delivery(ReportWebhookDeliveryRequest {
                    task_id: Some("task-7".into()),
                    ..delivery(&key_id(&acme), true)
                })
                .await
                .map(|_| ()),
            "taskId is not a UUID",
        ),
    ];

    for (outcome, message) in cases {
        assert_refused(&outcome.expect_err(message), Code::InvalidArgument, message);
    }
    assert_eq!(app.sequence(SYSTEM.topic()).await, 0);
    assert_eq!(
        app.sequence(ADMIN.topic()).await,
        1,
        "only the key's creation"
    );
    assert_eq!(app.sequence(WEBHOOKS.topic(uuid(&key_id(&acme)))).await, 0);
}
