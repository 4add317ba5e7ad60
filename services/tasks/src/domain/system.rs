//! System-wide notices producers report: provider health, rate limits,
//! alerts for admins, configuration changes.

use super::{text, Named};
use crate::TasksError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

impl Named for HealthStatus {
    const ALL: &'static [Self] = &[
        HealthStatus::Healthy,
        HealthStatus::Degraded,
        HealthStatus::Unhealthy,
    ];

    fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Unhealthy => "Unhealthy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Named for Severity {
    const ALL: &'static [Self] = &[Severity::Info, Severity::Warning, Severity::Critical];

    fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Warning => "Warning",
            Severity::Critical => "Critical",
        }
    }
}

/// A validated `ReportProviderHealth`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderHealth {
    pub provider: String,
    pub status: HealthStatus,
    /// What `ProviderHealthChanged` says: the report's message, or
    /// "Provider {provider} is now {status}".
    pub message: String,
}

impl ProviderHealth {
    pub fn new(provider: &str, status: &str, message: Option<&str>) -> Result<Self, TasksError> {
        let provider = text::required("provider", provider, text::NAME_MAX)?;
        let status = HealthStatus::parse("status", status)?;
        let message = text::optional("message", message, text::TEXT_MAX)?
            .unwrap_or_else(|| format!("Provider {provider} is now {}", status.as_str()));
        Ok(Self {
            provider,
            status,
            message,
        })
    }
}

/// A validated `ReportRateLimit`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    pub provider: String,
    pub limit_type: String,
    pub usage_percent: i32,
    /// The report's message, or one naming provider, limit and usage.
    pub message: String,
}

impl RateLimit {
    pub fn new(
        provider: &str,
        limit_type: &str,
        usage_percent: i32,
        message: Option<&str>,
    ) -> Result<Self, TasksError> {
        let provider = text::required("provider", provider, text::NAME_MAX)?;
        let limit_type = text::required("limitType", limit_type, text::NAME_MAX)?;
        let usage_percent = text::percentage("usagePercent", usage_percent)?;
        let message = text::optional("message", message, text::TEXT_MAX)?.unwrap_or_else(|| {
            format!("Provider {provider} has used {usage_percent}% of its {limit_type} limit")
        });
        Ok(Self {
            provider,
            limit_type,
            usage_percent,
            message,
        })
    }
}

/// A validated `RaiseSystemAlert`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub severity: Severity,
    pub component: String,
    pub message: String,
}

impl NewAlert {
    pub fn new(severity: &str, component: &str, message: &str) -> Result<Self, TasksError> {
        Ok(Self {
            severity: Severity::parse("severity", severity)?,
            component: text::required("component", component, text::NAME_MAX)?,
            message: text::required("message", message, text::TEXT_MAX)?,
        })
    }
}

/// A setting that changed, for the admins' `ConfigurationChanged`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigurationChange {
    pub setting: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub changed_by: String,
}

impl ConfigurationChange {
    pub fn new(
        setting: &str,
        old_value: Option<&str>,
        new_value: Option<&str>,
        changed_by: &str,
    ) -> Result<Self, TasksError> {
        Ok(Self {
            setting: text::required("setting", setting, text::NAME_MAX)?,
            old_value: text::optional("oldValue", old_value, text::TEXT_MAX)?,
            new_value: text::optional("newValue", new_value, text::TEXT_MAX)?,
            changed_by: text::required("changedBy", changed_by, text::NAME_MAX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_testkit::invalid_message as refusal;

    #[test]
    fn provider_health_has_a_default_message() {
        let health = ProviderHealth::new(" openai ", "degraded", None).expect("valid");
        assert_eq!(health.status, HealthStatus::Degraded);
        assert_eq!(health.message, "Provider openai is now Degraded");
        let explained = ProviderHealth::new("openai", "Healthy", Some("Back")).expect("valid");
        assert_eq!(explained.message, "Back");
        assert_eq!(
            refusal(ProviderHealth::new("openai", "Down", None)),
            "status must be one of Healthy, Degraded, Unhealthy"
        );
        assert_eq!(
            refusal(ProviderHealth::new("", "Healthy", None)),
            "provider must not be empty"
        );
    }

    #[test]
    fn rate_limits_need_a_percentage_and_say_what_is_limited() {
        let limit = RateLimit::new("openai", "requests_per_minute", 85, None).expect("valid");
        assert_eq!(
            limit.message,
            "Provider openai has used 85% of its requests_per_minute limit"
        );
        assert_eq!(
            refusal(RateLimit::new("openai", "rpm", 101, None)),
            "usagePercent must be between 0 and 100"
        );
        assert_eq!(
            refusal(RateLimit::new("openai", " ", 10, None)),
            "limitType must not be empty"
        );
    }

    #[test]
    fn alerts_and_changes_are_validated() {
        assert_eq!(
            refusal(NewAlert::new("Fatal", "db", "down")),
            "severity must be one of Info, Warning, Critical"
        );
        assert_eq!(
            refusal(NewAlert::new("Info", "db", " ")),
            "message must not be empty"
        );
        assert_eq!(
            refusal(ConfigurationChange::new("rateLimit", None, None, "")),
            "changedBy must not be empty"
        );
        let change =
            ConfigurationChange::new("rateLimit", Some(""), Some("10"), "ops").expect("valid");
        assert_eq!(
            (change.old_value, change.new_value.as_deref()),
            (None, Some("10"))
        );
    }
}
