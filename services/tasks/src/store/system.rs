//! What producers report besides tasks and spend: provider health, rate
//! limits, webhook deliveries, alerts and configuration changes. Each is one
//! transaction with its event; health also keeps the provider's last status,
//! so only a change is announced.

use chrono::Utc;
use pulse_proto::tasks::{ADMIN, SYSTEM, WEBHOOKS};
use uuid::Uuid;

use super::{emit, Store};
use crate::domain::{
    ConfigurationChange, HealthStatus, Named, NewAlert, ProviderHealth, RateLimit, WebhookDelivery,
};
use crate::{events, TasksError};

impl Store {
    /// Stores the provider's status and, when it differs from the last one
    /// (or is the first), emits `ProviderHealthChanged`. Returns whether it
    /// did. Concurrent reports of one provider queue on its row, so the same
    /// change is announced once.
    pub(crate) async fn report_provider_health(
        &self,
        health: ProviderHealth,
    ) -> Result<bool, TasksError> {
        let now = Utc::now();
        let mut tx = self.outbox.begin().await?;
        let first = sqlx::query_scalar!(
            "INSERT INTO provider_health (provider, status, message, updated_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (provider) DO NOTHING RETURNING provider",
            &health.provider,
            health.status.as_str(),
            &health.message,
            now,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let changed = if first.is_some() {
            true
        } else {
            let stored = sqlx::query_scalar!(
                "SELECT status FROM provider_health WHERE provider = $1 FOR UPDATE",
                &health.provider,
            )
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query!(
                "UPDATE provider_health SET status = $2, message = $3, updated_at = $4
                 WHERE provider = $1",
                &health.provider,
                health.status.as_str(),
                &health.message,
                now,
            )
            .execute(&mut *tx)
            .await?;
            HealthStatus::from_stored(&stored) != Some(health.status)
        };
        if changed {
            emit(
                &mut tx,
                SYSTEM.topic(),
                events::provider_health_changed(&health, now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Stores the warning and emits `RateLimitWarning` to everyone.
    pub(crate) async fn report_rate_limit(&self, limit: RateLimit) -> Result<(), TasksError> {
        let now = Utc::now();
        let mut tx = self.outbox.begin().await?;
        sqlx::query!(
            "INSERT INTO rate_limit_warnings (id, provider, limit_type, usage_percent, message, reported_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            Uuid::new_v4(),
            &limit.provider,
            &limit.limit_type,
            limit.usage_percent,
            &limit.message,
            now,
        )
        .execute(&mut *tx)
        .await?;
        emit(
            &mut tx,
            SYSTEM.topic(),
            events::rate_limit_warning(&limit, now),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Emits `WebhookDelivered` or `WebhookFailed` to the key's webhook
    /// group; `NotFound` if there is no such key.
    pub(crate) async fn report_webhook(&self, delivery: WebhookDelivery) -> Result<(), TasksError> {
        let mut tx = self.outbox.begin().await?;
        let known = sqlx::query_scalar!(
            "SELECT id FROM virtual_keys WHERE id = $1 FOR KEY SHARE",
            delivery.virtual_key_id,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if known.is_none() {
            return Err(TasksError::NotFound("virtual key not found"));
        }
        emit(
            &mut tx,
            WEBHOOKS.topic(delivery.virtual_key_id),
            events::webhook(&delivery, Utc::now()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores the alert and emits `SystemAlert` to the admins; returns its id.
    pub(crate) async fn raise_alert(&self, alert: NewAlert) -> Result<Uuid, TasksError> {
        let id = Uuid::new_v4();
        let now = Utc::now();
        let mut tx = self.outbox.begin().await?;
        sqlx::query!(
            "INSERT INTO system_alerts (id, severity, component, message, raised_at)
             VALUES ($1, $2, $3, $4, $5)",
            id,
            alert.severity.as_str(),
            &alert.component,
            &alert.message,
            now,
        )
        .execute(&mut *tx)
        .await?;
        emit(
            &mut tx,
            ADMIN.topic(),
            events::system_alert(id, &alert, now),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Emits `ConfigurationChanged` to the admins. The setting lives
    /// elsewhere; only the announcement is this service's.
    pub(crate) async fn report_configuration_change(
        &self,
        change: ConfigurationChange,
    ) -> Result<(), TasksError> {
        let mut tx = self.outbox.begin().await?;
        emit(
            &mut tx,
            ADMIN.topic(),
            events::configuration_changed(&change, Utc::now()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
