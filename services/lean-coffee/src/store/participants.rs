//! Participation: one row per user who entered a session, one per gateway
//! connection. Entering and exiting (in `presence`, a batch at a time) and
//! the sweeper here all lock the user's participant row first, so "is this
//! the user's first / last connection?" is answered and acted on
//! atomically: two tabs entering or leaving at once yield exactly one
//! `ParticipantJoined` / `ParticipantLeft`. Those are presence notices
//! (`pulse_outbox::enqueue_notice`): delivered live to the others, outside
//! the session's numbered stream, so they take no sequence number.

use std::time::Duration;

use chrono::Utc;
use pulse_outbox::OutboxTransaction;
use pulse_proto::leancoffee::SESSION;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{convert, ParticipantRow};
use super::{session, Hold, Store};
use crate::domain::{Actor, Participant};
use crate::{events, LeanCoffeeError};

impl Store {
    /// Participants with at least one connection, in the order they joined.
    pub(crate) async fn active_participants(
        &self,
        session_id: Uuid,
    ) -> Result<Vec<Participant>, LeanCoffeeError> {
        let mut conn = self.outbox.pool().acquire().await?;
        session(&mut conn, session_id, Hold::Read).await?;
        let rows = sqlx::query_as!(
            ParticipantRow,
            "SELECT user_id, display_name, role, is_active, joined_at, left_at FROM participants
             WHERE session_id = $1 AND is_active ORDER BY joined_at, user_id",
            session_id,
        )
        .fetch_all(&mut *conn)
        .await?;
        convert(rows)
    }

    /// Removes connections silent for longer than `timeout`, marking users
    /// left without a connection inactive (`ParticipantLeft`). Returns how
    /// many connections were removed. Safe to run from several instances at
    /// once: each user is swept under their participant row lock.
    pub(crate) async fn sweep_connections(
        &self,
        timeout: Duration,
    ) -> Result<u64, LeanCoffeeError> {
        let seconds = timeout.as_secs_f64();
        let stale = sqlx::query!(
            "SELECT DISTINCT session_id, user_id FROM participant_connections
             WHERE last_seen < now() - make_interval(secs => $1)",
            seconds,
        )
        .fetch_all(self.outbox.pool())
        .await?;
        let mut removed = 0;
        for row in stale {
            removed += self
                .sweep_user(row.session_id, row.user_id, seconds)
                .await?;
        }
        Ok(removed)
    }

    async fn sweep_user(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        timeout_seconds: f64,
    ) -> Result<u64, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        if lock_participant(&mut tx, session_id, user_id)
            .await?
            .is_none()
        {
            return Ok(0);
        }
        let removed = sqlx::query!(
            "DELETE FROM participant_connections
             WHERE session_id = $1 AND user_id = $2
               AND last_seen < clock_timestamp() - make_interval(secs => $3)",
            session_id,
            user_id,
            timeout_seconds,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed > 0 {
            leave_if_gone(&mut tx, session_id, user_id).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }
}

/// Locks the user's participant row for the rest of the transaction and
/// returns whether they are active; `None` if they never entered.
async fn lock_participant(
    conn: &mut PgConnection,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<Option<bool>, LeanCoffeeError> {
    let active = sqlx::query_scalar!(
        "SELECT is_active FROM participants WHERE session_id = $1 AND user_id = $2 FOR UPDATE",
        session_id,
        user_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(active)
}

/// With the participant row locked: if the user has no connection left and
/// was active, marks them inactive and emits `ParticipantLeft` to the others.
async fn leave_if_gone(
    tx: &mut OutboxTransaction,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<(), LeanCoffeeError> {
    let left = sqlx::query_scalar!(
        "UPDATE participants SET is_active = FALSE, left_at = now()
         WHERE session_id = $1 AND user_id = $2 AND is_active
           AND NOT EXISTS (SELECT 1 FROM participant_connections c
                           WHERE c.session_id = $1 AND c.user_id = $2)
         RETURNING display_name",
        session_id,
        user_id,
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(display_name) = left {
        let user = Actor {
            id: user_id,
            display_name,
        };
        notify(
            tx,
            session_id,
            events::participant_left(session_id, &user, Utc::now()),
            user_id,
        )
        .await?;
    }
    Ok(())
}

/// A presence notice to the others: outside the session's numbered stream.
async fn notify(
    tx: &mut OutboxTransaction,
    session_id: Uuid,
    event: pulse_proto::leancoffee::v1::event::Kind,
    except: Uuid,
) -> Result<(), LeanCoffeeError> {
    pulse_outbox::enqueue_notice(tx, &SESSION.topic(session_id), event, Some(except)).await?;
    Ok(())
}
