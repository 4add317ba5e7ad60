//! Virtual keys: issued, listed, revoked and budgeted by admins, and
//! recognised by their hash when a client presents one. Every change tells
//! the admins (`ConfigurationChanged`, never with the secret); a revocation
//! also tells the gateways, which close what the key opened.

use chrono::Utc;
use pulse_proto::tasks::{ADMIN, KEY_REVOCATIONS};
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{convert, query_keys};
use super::{emit, Store};
use crate::domain::{KeyStatus, Money, Named, NewVirtualKey, Secret, VirtualKey};
use crate::{events, TasksError};

impl Store {
    /// Issues a key with a new secret, returned here and nowhere else.
    pub(crate) async fn create_key(
        &self,
        new: NewVirtualKey,
    ) -> Result<(VirtualKey, Secret), TasksError> {
        let secret = Secret::generate();
        let now = Utc::now();
        let mut tx = self.outbox.begin().await?;
        let row = query_keys!(
            "INSERT INTO virtual_keys (id, name, key_hash, key_prefix, status, budget, created_at)
             VALUES ($1, $2, $3, $4, $5, $6::int8 * 0.000001, $7) RETURNING",
            "",
            Uuid::new_v4(),
            &new.name,
            secret.hash(),
            secret.key_prefix(),
            KeyStatus::Active.as_str(),
            new.budget.map(Money::micros),
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let key = VirtualKey::try_from(row)?;
        let change = key.status_change(None);
        emit(
            &mut tx,
            ADMIN.topic(),
            events::configuration_changed(&change, now),
        )
        .await?;
        tx.commit().await?;
        Ok((key, secret))
    }

    /// Every key, newest first.
    pub(crate) async fn list_keys(&self) -> Result<Vec<VirtualKey>, TasksError> {
        let rows = query_keys!("SELECT", "FROM virtual_keys ORDER BY created_at DESC, id")
            .fetch_all(self.outbox.pool())
            .await?;
        convert(rows)
    }

    /// Revokes the key for good: `VirtualKeyRevoked` to the gateways and
    /// `ConfigurationChanged` to the admins. A revoked key stays as it is,
    /// without events.
    pub(crate) async fn revoke_key(&self, id: Uuid) -> Result<VirtualKey, TasksError> {
        let mut tx = self.outbox.begin().await?;
        let key = lock_key(&mut tx, id).await?;
        if key.status == KeyStatus::Revoked {
            return Ok(key);
        }
        let now = Utc::now();
        let row = query_keys!(
            "UPDATE virtual_keys SET status = $2, revoked_at = $3 WHERE id = $1 RETURNING",
            "",
            id,
            KeyStatus::Revoked.as_str(),
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let revoked = VirtualKey::try_from(row)?;
        emit(
            &mut tx,
            KEY_REVOCATIONS.topic(),
            events::virtual_key_revoked(id, now),
        )
        .await?;
        let change = revoked.status_change(Some(key.status));
        emit(
            &mut tx,
            ADMIN.topic(),
            events::configuration_changed(&change, now),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Sets or clears the key's budget and re-arms its budget alerts, so the
    /// thresholds of the new budget alert once each. Setting the budget the
    /// key already has changes nothing and tells nobody.
    pub(crate) async fn set_budget(
        &self,
        id: Uuid,
        budget: Option<Money>,
    ) -> Result<VirtualKey, TasksError> {
        let mut tx = self.outbox.begin().await?;
        let key = lock_key(&mut tx, id).await?;
        if key.budget == budget {
            return Ok(key);
        }
        let row = query_keys!(
            "UPDATE virtual_keys SET budget = $2::int8 * 0.000001 WHERE id = $1 RETURNING",
            "",
            id,
            budget.map(Money::micros),
        )
        .fetch_one(&mut *tx)
        .await?;
        let updated = VirtualKey::try_from(row)?;
        sqlx::query!("DELETE FROM budget_alerts WHERE virtual_key_id = $1", id)
            .execute(&mut *tx)
            .await?;
        let change = updated.budget_change(key.budget);
        emit(
            &mut tx,
            ADMIN.topic(),
            events::configuration_changed(&change, Utc::now()),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The active key whose secret was presented.
    pub(crate) async fn authenticate(&self, presented: &str) -> Result<VirtualKey, TasksError> {
        const INVALID: TasksError = TasksError::Unauthenticated("invalid virtual key");
        if !Secret::is_well_formed(presented) {
            return Err(INVALID);
        }
        let row = query_keys!(
            "SELECT",
            "FROM virtual_keys WHERE key_hash = $1",
            Secret::hash_of(presented),
        )
        .fetch_optional(self.outbox.pool())
        .await?;
        VirtualKey::try_from(row.ok_or(INVALID)?)?.require_active()
    }
}

/// The key, locked against other key changes and the spend aggregator until
/// the transaction ends.
async fn lock_key(conn: &mut PgConnection, id: Uuid) -> Result<VirtualKey, TasksError> {
    let row = query_keys!(
        "SELECT",
        "FROM virtual_keys WHERE id = $1 FOR NO KEY UPDATE",
        id,
    )
    .fetch_optional(conn)
    .await?;
    row.ok_or(TasksError::NotFound("virtual key not found"))?
        .try_into()
}
