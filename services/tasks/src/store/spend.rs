//! Spend: records stored as billing reports them, and the aggregation that
//! announces them. A record is durable when `RecordSpend` returns and has no
//! event of its own; the aggregator later claims a key's waiting records in
//! one transaction that sums them in NUMERIC, moves the key's spend, writes
//! the window and enqueues its `SpendUpdate` with the alerts it caused. A
//! crash before that commit leaves the records waiting; after it, they are
//! claimed and never counted again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pulse_outbox::OutboxTransaction;
use pulse_proto::tasks::SPEND;
use uuid::Uuid;

use super::{emit, Store};
use crate::domain::{
    thresholds_reached, unusual_average, Money, NewSpend, SpendWindow, HISTORY_WINDOWS,
};
use crate::{events, TasksError};

impl Store {
    /// Stores a spend record for the key; `NotFound` if there is no such key.
    pub(crate) async fn record_spend(&self, spend: NewSpend) -> Result<Uuid, TasksError> {
        let id = Uuid::new_v4();
        let stored = sqlx::query!(
            "INSERT INTO spend_records (id, virtual_key_id, amount, description, recorded_at)
             SELECT $1, id, $3::int8 * 0.000001, $4, now() FROM virtual_keys WHERE id = $2",
            id,
            spend.virtual_key_id,
            spend.amount.micros(),
            spend.description.as_deref(),
        )
        .execute(self.outbox.pool())
        .await?
        .rows_affected();
        if stored == 0 {
            return Err(TasksError::NotFound("virtual key not found"));
        }
        Ok(id)
    }

    /// Keys with waiting records whose window is over (`window` seconds
    /// since the key's last update: the database clock decides, so every
    /// instance agrees on it).
    pub(crate) async fn keys_due(&self, window: Duration) -> Result<Vec<Uuid>, TasksError> {
        let keys = sqlx::query_scalar!(
            "SELECT DISTINCT r.virtual_key_id FROM spend_records r
             JOIN virtual_keys k ON k.id = r.virtual_key_id
             WHERE r.window_id IS NULL
               AND (k.last_spend_update_at IS NULL
                    OR k.last_spend_update_at <= now() - make_interval(secs => $1))",
            window.as_secs_f64(),
        )
        .fetch_all(self.outbox.pool())
        .await?;
        Ok(keys)
    }

    /// Announces the key's waiting records as one window, if its window is
    /// over and no other instance is doing it right now (the key row is
    /// taken with `SKIP LOCKED`: a busy key is simply tried at the next
    /// tick). Returns whether a `SpendUpdate` was enqueued.
    pub(crate) async fn aggregate_key(
        &self,
        virtual_key_id: Uuid,
        window: Duration,
        unusual_factor: f64,
    ) -> Result<bool, TasksError> {
        let mut tx = self.outbox.begin().await?;
        let due = sqlx::query!(
            r#"SELECT (k.current_spend * 1000000)::int8 AS "current!",
                      (k.budget * 1000000)::int8 AS budget
             FROM virtual_keys k
             WHERE k.id = $1
               AND (k.last_spend_update_at IS NULL
                    OR k.last_spend_update_at <= now() - make_interval(secs => $2))
             FOR NO KEY UPDATE SKIP LOCKED"#,
            virtual_key_id,
            window.as_secs_f64(),
        )
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| (row.current, row.budget));
        let Some((previous, budget)) = due else {
            return Ok(false);
        };
        let window_id = Uuid::new_v4();
        // Records committed from now on wait for the next window.
        let delta = sqlx::query_scalar!(
            "WITH claimed AS (
                 UPDATE spend_records SET window_id = $2
                 WHERE virtual_key_id = $1 AND window_id IS NULL
                 RETURNING amount)
             SELECT (sum(amount) * 1000000)::int8 FROM claimed",
            virtual_key_id,
            window_id,
        )
        .fetch_one(&mut *tx)
        .await?;
        let Some(delta) = delta else {
            return Ok(false);
        };
        let current = sqlx::query_scalar!(
            r#"UPDATE virtual_keys
             SET current_spend = current_spend + $2::int8 * 0.000001, last_spend_update_at = now()
             WHERE id = $1 RETURNING (current_spend * 1000000)::int8 AS "current!""#,
            virtual_key_id,
            delta,
        )
        .fetch_one(&mut *tx)
        .await?;
        let spent = SpendWindow {
            virtual_key_id,
            previous: Money::from_micros(previous),
            delta: Money::from_micros(delta),
            current: Money::from_micros(current),
        };
        let history = sqlx::query_scalar!(
            r#"SELECT (delta * 1000000)::int8 AS "delta!" FROM spend_windows
             WHERE virtual_key_id = $1
             ORDER BY closed_at DESC, id LIMIT $2"#,
            virtual_key_id,
            HISTORY_WINDOWS,
        )
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO spend_windows (id, virtual_key_id, delta, previous_spend, current_spend, closed_at)
             VALUES ($1, $2, $3::int8 * 0.000001, $4::int8 * 0.000001, $5::int8 * 0.000001, now())",
            window_id,
            virtual_key_id,
            delta,
            previous,
            current,
        )
        .execute(&mut *tx)
        .await?;
        let now = Utc::now();
        emit(
            &mut tx,
            SPEND.topic(virtual_key_id),
            events::spend_update(&spent, now),
        )
        .await?;
        if let Some(budget) = budget {
            alert_budget(&mut tx, &spent, Money::from_micros(budget), now).await?;
        }
        let history: Vec<Money> = history.into_iter().map(Money::from_micros).collect();
        if let Some(average) = unusual_average(spent.delta, &history, unusual_factor) {
            emit(
                &mut tx,
                SPEND.topic(virtual_key_id),
                events::unusual_spending(&spent, average, unusual_factor, now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Records and announces the budget thresholds the window's spend reached
/// for the first time, ascending.
async fn alert_budget(
    tx: &mut OutboxTransaction,
    spent: &SpendWindow,
    budget: Money,
    now: DateTime<Utc>,
) -> Result<(), TasksError> {
    let fired = sqlx::query_scalar!(
        "SELECT threshold_percent FROM budget_alerts WHERE virtual_key_id = $1",
        spent.virtual_key_id,
    )
    .fetch_all(&mut **tx)
    .await?;
    for threshold in thresholds_reached(spent.current, budget, &fired) {
        sqlx::query!(
            "INSERT INTO budget_alerts (virtual_key_id, threshold_percent, current_spend, fired_at)
             VALUES ($1, $2, $3::int8 * 0.000001, $4)",
            spent.virtual_key_id,
            threshold,
            spent.current.micros(),
            now,
        )
        .execute(&mut **tx)
        .await?;
        emit(
            tx,
            SPEND.topic(spent.virtual_key_id),
            events::budget_alert(spent.virtual_key_id, threshold, spent.current, budget, now),
        )
        .await?;
    }
    Ok(())
}
