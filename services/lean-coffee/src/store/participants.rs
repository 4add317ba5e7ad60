//! Participation: one row per user who entered a session, one per gateway
//! connection. Enter, exit and the sweeper all lock the user's participant
//! row first, so "is this the user's first / last connection?" is answered
//! and acted on atomically: two tabs entering or leaving at once yield
//! exactly one `ParticipantJoined` / `ParticipantLeft`. Those are presence
//! notices (`pulse_outbox::enqueue_notice`): delivered live to the others,
//! outside the session's numbered stream, so they take no sequence number.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{convert, ParticipantRow, PARTICIPANT_COLUMNS};
use super::{session, Hold, Store};
use crate::domain::{Actor, ConnectionId, Participant, Role};
use crate::{events, LeanCoffeeError};

impl Store {
    /// Makes the caller a participant (again) through this connection. The
    /// user's first connection (when they were not active) emits
    /// `ParticipantJoined` to the others.
    pub(crate) async fn enter_session(
        &self,
        actor: &Actor,
        session_id: Uuid,
        connection: &ConnectionId,
    ) -> Result<Participant, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        let session = session(&mut tx, session_id, Hold::Read).await?;
        sqlx::query(
            "INSERT INTO participants (session_id, user_id, display_name, role, is_active, joined_at)
             VALUES ($1, $2, $3, $4, FALSE, now())
             ON CONFLICT (session_id, user_id) DO NOTHING",
        )
        .bind(session_id)
        .bind(actor.id)
        .bind(&actor.display_name)
        .bind(Role::of(&session, actor.id).as_str())
        .execute(&mut *tx)
        .await?;
        let was_active = lock_participant(&mut tx, session_id, actor.id)
            .await?
            .unwrap_or(false);
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO participant_connections (session_id, connection_id, user_id, last_seen)
             VALUES ($1, $2, $3, now())
             ON CONFLICT (session_id, connection_id) DO UPDATE SET last_seen = now()
                 WHERE participant_connections.user_id = EXCLUDED.user_id
             RETURNING connection_id",
        )
        .bind(session_id)
        .bind(connection.as_str())
        .bind(actor.id)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            return Err(LeanCoffeeError::Invalid(
                "connectionId is in use by another user".into(),
            ));
        }
        // A token without a name keeps the name known from earlier ones.
        let sql = format!(
            "UPDATE participants
             SET is_active = TRUE, left_at = NULL,
                 display_name = CASE WHEN $3 = '' THEN display_name ELSE $3 END
             WHERE session_id = $1 AND user_id = $2
             RETURNING {PARTICIPANT_COLUMNS}"
        );
        let row: ParticipantRow = sqlx::query_as(&sql)
            .bind(session_id)
            .bind(actor.id)
            .bind(&actor.display_name)
            .fetch_one(&mut *tx)
            .await?;
        let participant = Participant::try_from(row)?;
        if !was_active {
            let joined = Actor {
                id: actor.id,
                display_name: participant.display_name.clone(),
            };
            notify(
                &mut tx,
                session_id,
                events::participant_joined(session_id, &joined, Utc::now()),
                actor.id,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(participant)
    }

    /// The heartbeat. NOT_FOUND when the connection is not in the session
    /// (removed by the sweeper, or never entered): the gateway then enters
    /// again. Needs no participant lock: the sweeper's delete re-checks
    /// `last_seen` after waiting for this update, so a touched row is never
    /// swept.
    pub(crate) async fn touch_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        connection: &ConnectionId,
    ) -> Result<(), LeanCoffeeError> {
        let touched = sqlx::query(
            "UPDATE participant_connections SET last_seen = now()
             WHERE session_id = $1 AND connection_id = $2 AND user_id = $3",
        )
        .bind(session_id)
        .bind(connection.as_str())
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if touched == 0 {
            return Err(LeanCoffeeError::NotFound(
                "connection is not in this session",
            ));
        }
        Ok(())
    }

    /// Removes the connection; the user's last one marks them inactive and
    /// emits `ParticipantLeft` to the others. Exiting a connection that is
    /// not in the session does nothing.
    pub(crate) async fn exit_session(
        &self,
        actor: &Actor,
        session_id: Uuid,
        connection: &ConnectionId,
    ) -> Result<(), LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        session(&mut tx, session_id, Hold::Read).await?;
        if lock_participant(&mut tx, session_id, actor.id)
            .await?
            .is_none()
        {
            return Ok(());
        }
        let removed = sqlx::query(
            "DELETE FROM participant_connections
             WHERE session_id = $1 AND connection_id = $2 AND user_id = $3",
        )
        .bind(session_id)
        .bind(connection.as_str())
        .bind(actor.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed > 0 {
            leave_if_gone(&mut tx, session_id, actor.id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Participants with at least one connection, in the order they joined.
    pub(crate) async fn active_participants(
        &self,
        session_id: Uuid,
    ) -> Result<Vec<Participant>, LeanCoffeeError> {
        let mut conn = self.pool.acquire().await?;
        session(&mut conn, session_id, Hold::Read).await?;
        let sql = format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants
             WHERE session_id = $1 AND is_active ORDER BY joined_at, user_id"
        );
        let rows: Vec<ParticipantRow> = sqlx::query_as(&sql)
            .bind(session_id)
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
        let stale: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT DISTINCT session_id, user_id FROM participant_connections
             WHERE last_seen < now() - make_interval(secs => $1)",
        )
        .bind(seconds)
        .fetch_all(&self.pool)
        .await?;
        let mut removed = 0;
        for (session_id, user_id) in stale {
            removed += self.sweep_user(session_id, user_id, seconds).await?;
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
        let removed = sqlx::query(
            "DELETE FROM participant_connections
             WHERE session_id = $1 AND user_id = $2
               AND last_seen < clock_timestamp() - make_interval(secs => $3)",
        )
        .bind(session_id)
        .bind(user_id)
        .bind(timeout_seconds)
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

/// A keep-alive, as [`Store::touch_sessions`] takes it.
#[derive(Debug)]
pub(crate) struct Touching {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub connection: ConnectionId,
}

impl Store {
    /// [`Store::touch_session`] for many connections in one statement; the
    /// same outcome per entry (NOT_FOUND for a connection not in the session).
    pub(crate) async fn touch_sessions(
        &self,
        entries: &[Touching],
    ) -> Result<Vec<Result<(), LeanCoffeeError>>, LeanCoffeeError> {
        let touched: Vec<(Uuid, String)> = sqlx::query_as(
            "UPDATE participant_connections c SET last_seen = now()
             FROM UNNEST($1::uuid[], $2::text[], $3::uuid[]) AS e (session_id, connection_id, user_id)
             WHERE c.session_id = e.session_id AND c.connection_id = e.connection_id
               AND c.user_id = e.user_id
             RETURNING c.session_id, c.connection_id",
        )
        .bind(entries.iter().map(|e| e.session_id).collect::<Vec<_>>())
        .bind(
            entries
                .iter()
                .map(|e| e.connection.as_str().to_owned())
                .collect::<Vec<_>>(),
        )
        .bind(entries.iter().map(|e| e.user_id).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await?;
        let touched: HashSet<(Uuid, &str)> = touched
            .iter()
            .map(|(session, id)| (*session, id.as_str()))
            .collect();
        Ok(entries
            .iter()
            .map(|e| {
                if touched.contains(&(e.session_id, e.connection.as_str())) {
                    Ok(())
                } else {
                    Err(LeanCoffeeError::NotFound(
                        "connection is not in this session",
                    ))
                }
            })
            .collect())
    }
}

/// Locks the user's participant row for the rest of the transaction and
/// returns whether they are active; `None` if they never entered.
async fn lock_participant(
    conn: &mut PgConnection,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<Option<bool>, LeanCoffeeError> {
    let active = sqlx::query_scalar(
        "SELECT is_active FROM participants WHERE session_id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(session_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(active)
}

/// With the participant row locked: if the user has no connection left and
/// was active, marks them inactive and emits `ParticipantLeft` to the others.
async fn leave_if_gone(
    conn: &mut PgConnection,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<(), LeanCoffeeError> {
    let left: Option<String> = sqlx::query_scalar(
        "UPDATE participants SET is_active = FALSE, left_at = now()
         WHERE session_id = $1 AND user_id = $2 AND is_active
           AND NOT EXISTS (SELECT 1 FROM participant_connections c
                           WHERE c.session_id = $1 AND c.user_id = $2)
         RETURNING display_name",
    )
    .bind(session_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(display_name) = left {
        let user = Actor {
            id: user_id,
            display_name,
        };
        notify(
            conn,
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
    conn: &mut PgConnection,
    session_id: Uuid,
    event: pulse_proto::events::v1::event::Kind,
    except: Uuid,
) -> Result<(), LeanCoffeeError> {
    pulse_outbox::enqueue_notice(
        conn,
        &pulse_bus::Topic::Session(session_id),
        event,
        Some(except),
    )
    .await?;
    Ok(())
}
