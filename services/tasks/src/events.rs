//! The contract events of CONTRACT §3.4, built from domain values, each with
//! the group it goes to where that depends on the value. Every payload sets
//! `timestamp` to when the change was made, so a payload read alone is
//! complete.

use chrono::{DateTime, Utc};
use pulse_bus::Topic;
use pulse_proto::tasks::v1::{self as proto, event::Kind};
use pulse_proto::tasks::{IMAGE, TASK, VIDEO};
use pulse_service::timestamp;
use uuid::Uuid;

use crate::domain::{
    ConfigurationChange, Money, Named, Navigation, NewAlert, ProviderHealth, RateLimit, Report,
    SpendWindow, Task, TaskKind, TaskStatus, WebhookDelivery, WebhookOutcome,
};

/// What a progress event says when the report gave no status text.
const RUNNING: &str = "Running";

/// The group that follows a task: `task_`, `video_` or `image_{id}`.
pub fn task_topic(task: &Task) -> Topic {
    match task.kind {
        TaskKind::Task => TASK.topic(task.id),
        TaskKind::Video => VIDEO.topic(task.id),
        TaskKind::Image => IMAGE.topic(task.id),
    }
}

/// The event of a report that changed `task` (as it is after the change).
/// A media request has no "started" event: its start is a progress event
/// at the stored percentage. The media payload is built first; a generic
/// task's event carries the same fields under `taskId`.
pub fn task_reported(task: &Task, report: &Report, at: DateTime<Utc>) -> Kind {
    let request_id = task.id.to_string();
    let timestamp = timestamp(at);
    match report {
        Report::Started => match task.kind {
            TaskKind::Task => Kind::TaskStarted(proto::TaskStarted {
                task_id: request_id,
                task_type: task.task_type.clone(),
                status: RUNNING.to_owned(),
                timestamp,
            }),
            TaskKind::Video | TaskKind::Image => progress(
                task.kind,
                proto::MediaProgress {
                    request_id,
                    percentage: task.percentage,
                    status: RUNNING.to_owned(),
                    message: task.message.clone(),
                    timestamp,
                },
            ),
        },
        Report::Progress(reported) => progress(
            task.kind,
            proto::MediaProgress {
                request_id,
                percentage: reported.percentage,
                status: reported.status.as_deref().unwrap_or(RUNNING).to_owned(),
                message: reported.message.clone(),
                timestamp,
            },
        ),
        Report::Completed { result } => {
            let payload = proto::MediaCompleted {
                request_id,
                status: TaskStatus::Completed.as_str().to_owned(),
                result: result.clone().unwrap_or_default(),
                timestamp,
            };
            match task.kind {
                TaskKind::Task => Kind::TaskCompleted(proto::TaskCompleted {
                    task_id: payload.request_id,
                    status: payload.status,
                    result: payload.result,
                    timestamp: payload.timestamp,
                }),
                TaskKind::Video => Kind::VideoCompleted(payload),
                TaskKind::Image => Kind::ImageCompleted(payload),
            }
        }
        Report::Failed { error } => {
            let payload = proto::MediaFailed {
                request_id,
                status: TaskStatus::Failed.as_str().to_owned(),
                error: error.clone(),
                timestamp,
            };
            match task.kind {
                TaskKind::Task => Kind::TaskFailed(proto::TaskFailed {
                    task_id: payload.request_id,
                    status: payload.status,
                    error: payload.error,
                    timestamp: payload.timestamp,
                }),
                TaskKind::Video => Kind::VideoFailed(payload),
                TaskKind::Image => Kind::ImageFailed(payload),
            }
        }
    }
}

/// `TaskProgress`, `VideoProgress` or `ImageProgress`.
fn progress(kind: TaskKind, payload: proto::MediaProgress) -> Kind {
    match kind {
        TaskKind::Task => Kind::TaskProgress(proto::TaskProgress {
            task_id: payload.request_id,
            percentage: payload.percentage,
            status: payload.status,
            message: payload.message,
            timestamp: payload.timestamp,
        }),
        TaskKind::Video => Kind::VideoProgress(payload),
        TaskKind::Image => Kind::ImageProgress(payload),
    }
}

pub fn virtual_key_revoked(virtual_key_id: Uuid, at: DateTime<Utc>) -> Kind {
    Kind::VirtualKeyRevoked(proto::VirtualKeyRevoked {
        virtual_key_id: virtual_key_id.to_string(),
        timestamp: timestamp(at),
    })
}

pub fn configuration_changed(change: &ConfigurationChange, at: DateTime<Utc>) -> Kind {
    Kind::ConfigurationChanged(proto::ConfigurationChanged {
        setting: change.setting.clone(),
        old_value: change.old_value.clone(),
        new_value: change.new_value.clone(),
        changed_by: change.changed_by.clone(),
        timestamp: timestamp(at),
    })
}

pub fn spend_update(window: &SpendWindow, at: DateTime<Utc>) -> Kind {
    Kind::SpendUpdate(proto::SpendUpdate {
        virtual_key_id: window.virtual_key_id.to_string(),
        current_spend: window.current.to_f64(),
        previous_spend: window.previous.to_f64(),
        delta: window.delta.to_f64(),
        timestamp: timestamp(at),
    })
}

pub fn budget_alert(
    virtual_key_id: Uuid,
    threshold_percent: i32,
    current: Money,
    budget: Money,
    at: DateTime<Utc>,
) -> Kind {
    Kind::BudgetAlert(proto::BudgetAlert {
        virtual_key_id: virtual_key_id.to_string(),
        threshold_percent,
        current_spend: current.to_f64(),
        budget: budget.to_f64(),
        message: format!(
            "Spend of {current} has reached {threshold_percent}% of the budget of {budget}"
        ),
        timestamp: timestamp(at),
    })
}

pub fn unusual_spending(
    window: &SpendWindow,
    average: Money,
    factor: f64,
    at: DateTime<Utc>,
) -> Kind {
    Kind::UnusualSpending(proto::UnusualSpending {
        virtual_key_id: window.virtual_key_id.to_string(),
        window_spend: window.delta.to_f64(),
        average_spend: average.to_f64(),
        message: format!(
            "Spend of {} in one window is more than {factor} times the recent average of {average}",
            window.delta
        ),
        timestamp: timestamp(at),
    })
}

pub fn provider_health_changed(health: &ProviderHealth, at: DateTime<Utc>) -> Kind {
    Kind::ProviderHealthChanged(proto::ProviderHealthChanged {
        provider: health.provider.clone(),
        status: health.status.as_str().to_owned(),
        message: health.message.clone(),
        timestamp: timestamp(at),
    })
}

pub fn rate_limit_warning(limit: &RateLimit, at: DateTime<Utc>) -> Kind {
    Kind::RateLimitWarning(proto::RateLimitWarning {
        provider: limit.provider.clone(),
        limit_type: limit.limit_type.clone(),
        usage_percent: limit.usage_percent,
        message: limit.message.clone(),
        timestamp: timestamp(at),
    })
}

pub fn webhook(delivery: &WebhookDelivery, at: DateTime<Utc>) -> Kind {
    let virtual_key_id = delivery.virtual_key_id.to_string();
    let task_id = delivery.task_id.map(|id| id.to_string());
    match &delivery.outcome {
        WebhookOutcome::Delivered { status_code } => {
            Kind::WebhookDelivered(proto::WebhookDelivered {
                virtual_key_id,
                webhook_url: delivery.webhook_url.clone(),
                task_id,
                status_code: *status_code,
                attempt: delivery.attempt,
                timestamp: timestamp(at),
            })
        }
        WebhookOutcome::Failed {
            status_code,
            error,
            will_retry,
        } => Kind::WebhookFailed(proto::WebhookFailed {
            virtual_key_id,
            webhook_url: delivery.webhook_url.clone(),
            task_id,
            status_code: *status_code,
            attempt: delivery.attempt,
            error: error.clone(),
            will_retry: *will_retry,
            timestamp: timestamp(at),
        }),
    }
}

pub fn system_alert(id: Uuid, alert: &NewAlert, at: DateTime<Utc>) -> Kind {
    Kind::SystemAlert(proto::SystemAlert {
        id: id.to_string(),
        severity: alert.severity.as_str().to_owned(),
        component: alert.component.clone(),
        message: alert.message.clone(),
        timestamp: timestamp(at),
    })
}

pub fn navigation_updated(virtual_key_id: Uuid, state: &Navigation, at: DateTime<Utc>) -> Kind {
    Kind::NavigationUpdated(proto::NavigationUpdated {
        virtual_key_id: virtual_key_id.to_string(),
        state: Some(state.into()),
        timestamp: timestamp(at),
    })
}

#[cfg(test)]
mod tests {
    use pulse_proto::EventName;
    use serde_json::json;

    use super::*;
    use crate::domain::Progress;

    fn task(kind: TaskKind) -> Task {
        Task {
            id: Uuid::new_v4(),
            virtual_key_id: Uuid::new_v4(),
            kind,
            task_type: "render".into(),
            status: TaskStatus::Running,
            percentage: 0,
            message: None,
            result: None,
            error: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn each_kind_of_task_reports_under_its_own_names_and_group() {
        let at = Utc::now();
        let progress = Report::Progress(Progress::new(40, None, None).expect("valid"));
        let cases = [
            (
                TaskKind::Task,
                "TaskStarted",
                "TaskProgress",
                "TaskCompleted",
                "TaskFailed",
                "task",
            ),
            (
                TaskKind::Video,
                "VideoProgress",
                "VideoProgress",
                "VideoCompleted",
                "VideoFailed",
                "video",
            ),
            (
                TaskKind::Image,
                "ImageProgress",
                "ImageProgress",
                "ImageCompleted",
                "ImageFailed",
                "image",
            ),
        ];
        for (kind, started, progressed, completed, failed, group) in cases {
            let task = task(kind);
            let name = |report: &Report| task_reported(&task, report, at).name();
            assert_eq!(name(&Report::Started), Some(started));
            assert_eq!(name(&progress), Some(progressed));
            assert_eq!(name(&Report::Completed { result: None }), Some(completed));
            assert_eq!(name(&Report::Failed { error: "x".into() }), Some(failed));
            assert_eq!(task_topic(&task).group(), format!("{group}_{}", task.id));
        }
    }

    #[test]
    fn progress_without_a_status_text_says_running() {
        let task = task(TaskKind::Video);
        let at = Utc::now();
        let report = Report::Progress(Progress::new(40, None, Some("Frames")).expect("valid"));
        assert_eq!(
            serde_json::to_value(task_reported(&task, &report, at)).expect("serializes"),
            json!({
                "requestId": task.id.to_string(), "percentage": 40, "status": "Running",
                "message": "Frames", "timestamp": timestamp(at)
            })
        );
    }

    #[test]
    fn spend_update_chains_previous_delta_and_current() {
        let window = SpendWindow {
            virtual_key_id: Uuid::new_v4(),
            previous: Money::from_micros(1_500_000),
            delta: Money::from_micros(250_000),
            current: Money::from_micros(1_750_000),
        };
        let at = Utc::now();
        assert_eq!(
            serde_json::to_value(spend_update(&window, at)).expect("serializes"),
            json!({
                "virtualKeyId": window.virtual_key_id.to_string(), "currentSpend": 1.75,
                "previousSpend": 1.5, "delta": 0.25, "timestamp": timestamp(at)
            })
        );
    }

    #[test]
    fn alerts_explain_themselves() {
        let id = Uuid::new_v4();
        let Kind::BudgetAlert(alert) = budget_alert(
            id,
            80,
            Money::from_micros(8_000_000),
            Money::from_micros(10_000_000),
            Utc::now(),
        ) else {
            panic!("expected a BudgetAlert");
        };
        assert_eq!(
            alert.message,
            "Spend of 8 has reached 80% of the budget of 10"
        );
        let window = SpendWindow {
            virtual_key_id: id,
            previous: Money::default(),
            delta: Money::from_micros(9_000_000),
            current: Money::from_micros(9_000_000),
        };
        let Kind::UnusualSpending(unusual) =
            unusual_spending(&window, Money::from_micros(1_000_000), 3.0, Utc::now())
        else {
            panic!("expected UnusualSpending");
        };
        assert_eq!(
            unusual.message,
            "Spend of 9 in one window is more than 3 times the recent average of 1"
        );
    }
}
