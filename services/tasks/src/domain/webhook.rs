//! Webhook deliveries a sender reports for a virtual key.

use uuid::Uuid;

use super::text;
use crate::TasksError;

/// How a delivery attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookOutcome {
    /// The receiver accepted it with this HTTP status.
    Delivered { status_code: i32 },
    /// It was refused (`status_code`) or no response came (`None`).
    Failed {
        status_code: Option<i32>,
        error: String,
        will_retry: bool,
    },
}

/// A validated `ReportWebhookDelivery` (the key is checked by the store).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    pub virtual_key_id: Uuid,
    pub webhook_url: String,
    pub task_id: Option<Uuid>,
    pub attempt: i32,
    pub outcome: WebhookOutcome,
}

/// Text of a failure reported without one.
const UNEXPLAINED_FAILURE: &str = "Webhook delivery failed";

/// The fields of a report, before validation.
#[derive(Debug, Clone, Copy)]
pub struct WebhookReport<'a> {
    pub webhook_url: &'a str,
    pub task_id: Option<Uuid>,
    pub status_code: Option<i32>,
    pub attempt: i32,
    pub delivered: bool,
    pub error: Option<&'a str>,
    pub will_retry: bool,
}

impl WebhookDelivery {
    pub fn new(virtual_key_id: Uuid, report: WebhookReport<'_>) -> Result<Self, TasksError> {
        let webhook_url = text::required("webhookUrl", report.webhook_url, text::TEXT_MAX)?;
        pulse_service::check_web_url("webhookUrl", &webhook_url).map_err(TasksError::Invalid)?;
        if report.attempt < 1 {
            return Err(TasksError::Invalid("attempt must be at least 1".into()));
        }
        if let Some(code) = report.status_code {
            if !(100..=599).contains(&code) {
                return Err(TasksError::Invalid(
                    "statusCode must be an HTTP status between 100 and 599".into(),
                ));
            }
        }
        let outcome = if report.delivered {
            let status_code = report.status_code.ok_or_else(|| {
                TasksError::Invalid("statusCode is required for a delivered webhook".into())
            })?;
            WebhookOutcome::Delivered { status_code }
        } else {
            WebhookOutcome::Failed {
                status_code: report.status_code,
                error: text::optional("error", report.error, text::TEXT_MAX)?
                    .unwrap_or_else(|| UNEXPLAINED_FAILURE.to_owned()),
                will_retry: report.will_retry,
            }
        };
        Ok(Self {
            virtual_key_id,
            webhook_url,
            task_id: report.task_id,
            attempt: report.attempt,
            outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(delivered: bool, status_code: Option<i32>) -> WebhookReport<'static> {
        WebhookReport {
            webhook_url: "https://example.com/hook",
            task_id: None,
            status_code,
            attempt: 1,
            delivered,
            error: None,
            will_retry: true,
        }
    }

    fn refusal(report: WebhookReport<'_>) -> String {
        pulse_testkit::invalid_message(WebhookDelivery::new(Uuid::new_v4(), report))
    }

    #[test]
    fn a_delivery_names_the_status_and_a_failure_says_why() {
        let delivered = WebhookDelivery::new(Uuid::new_v4(), report(true, Some(200)));
        assert_eq!(
            delivered.map(|d| d.outcome).ok(),
            Some(WebhookOutcome::Delivered { status_code: 200 })
        );
        let failed = WebhookDelivery::new(Uuid::new_v4(), report(false, None));
        assert_eq!(
            failed.map(|d| d.outcome).ok(),
            Some(WebhookOutcome::Failed {
                status_code: None,
                error: "Webhook delivery failed".into(),
                will_retry: true
            })
        );
    }

    #[test]
    fn malformed_reports_are_refused() {
        assert_eq!(
            refusal(report(true, None)),
            "statusCode is required for a delivered webhook"
        );
        assert_eq!(
            refusal(report(false, Some(42))),
            "statusCode must be an HTTP status between 100 and 599"
        );
        assert_eq!(
            refusal(WebhookReport {
                attempt: 0,
                ..report(true, Some(200))
            }),
            "attempt must be at least 1"
        );
        assert_eq!(
            refusal(WebhookReport {
                webhook_url: " ",
                ..report(true, Some(200))
            }),
            "webhookUrl must not be empty"
        );
        assert_eq!(
            refusal(WebhookReport {
                webhook_url: "javascript:alert(1)",
                ..report(true, Some(200))
            }),
            "webhookUrl must be an absolute http or https URL"
        );
    }
}
