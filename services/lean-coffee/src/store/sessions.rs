//! Sessions themselves: create, read, list, and the status changes only the
//! facilitator makes.

use chrono::Utc;
use pulse_proto::leancoffee::SESSION;
use uuid::Uuid;

use super::rows::{convert, query_topics, ParticipantRow, SessionRow};
use super::{emit, session, Hold, Store};
use crate::domain::{Actor, NewSession, Session, SessionSnapshot, SessionStatus};
use crate::{events, LeanCoffeeError};

impl Store {
    /// Creates a Scheduled session facilitated by the caller. No event:
    /// nobody can be in the session's group before it exists.
    pub(crate) async fn create_session(
        &self,
        actor: &Actor,
        new: NewSession,
    ) -> Result<Session, LeanCoffeeError> {
        let row = sqlx::query_as!(
            SessionRow,
            "INSERT INTO sessions (id, title, description, facilitator_id, status, scheduled_start_time, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             RETURNING id, title, description, facilitator_id, status, scheduled_start_time,
                       actual_start_time, actual_end_time, created_at",
            Uuid::new_v4(),
            &new.title,
            new.description.as_deref(),
            actor.id,
            SessionStatus::Scheduled.as_str(),
            new.scheduled_start_time,
            Utc::now(),
        )
        .fetch_one(self.outbox.pool())
        .await?;
        row.try_into()
    }

    /// The session, its topics, participants and the caller's votes, and the
    /// sequence of the last event, all read in one REPEATABLE READ snapshot:
    /// it reflects exactly the events up to that sequence, so a client
    /// resuming live events after it misses nothing and applies nothing twice.
    pub(crate) async fn get_session(
        &self,
        actor: &Actor,
        session_id: Uuid,
    ) -> Result<SessionSnapshot, LeanCoffeeError> {
        let mut tx = self.outbox.pool().begin().await?;
        sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let session = session(&mut tx, session_id, Hold::Read).await?;
        let topics = query_topics!(
            "SELECT",
            "FROM topics t WHERE t.session_id = $1 ORDER BY t.created_at, t.id",
            session_id,
        )
        .fetch_all(&mut *tx)
        .await?;
        let participants = sqlx::query_as!(
            ParticipantRow,
            "SELECT user_id, display_name, role, is_active, joined_at, left_at
             FROM participants WHERE session_id = $1 ORDER BY joined_at, user_id",
            session_id,
        )
        .fetch_all(&mut *tx)
        .await?;
        let voted_topic_ids = sqlx::query_scalar!(
            "SELECT topic_id FROM votes WHERE session_id = $1 AND user_id = $2 ORDER BY cast_at, topic_id",
            session_id,
            actor.id,
        )
        .fetch_all(&mut *tx)
        .await?;
        let sequence = pulse_outbox::current_sequence(&mut tx, &SESSION.topic(session_id)).await?;
        tx.commit().await?;
        Ok(SessionSnapshot {
            session,
            topics: convert(topics)?,
            participants: convert(participants)?,
            sequence,
            voted_topic_ids,
        })
    }

    /// Sessions the caller facilitates or has entered, newest first.
    pub(crate) async fn list_sessions(
        &self,
        actor: &Actor,
    ) -> Result<Vec<Session>, LeanCoffeeError> {
        let rows = sqlx::query_as!(
            SessionRow,
            "SELECT id, title, description, facilitator_id, status, scheduled_start_time,
                    actual_start_time, actual_end_time, created_at
             FROM sessions s
             WHERE s.facilitator_id = $1
                OR EXISTS (SELECT 1 FROM participants p WHERE p.session_id = s.id AND p.user_id = $1)
             ORDER BY s.created_at DESC, s.id",
            actor.id,
        )
        .fetch_all(self.outbox.pool())
        .await?;
        convert(rows)
    }

    /// Moves the session to `status` (facilitator only) and emits
    /// `SessionStatusChanged`. The start and end times are written only if
    /// still empty, so they are set once whatever happens.
    pub(crate) async fn change_session_status(
        &self,
        actor: &Actor,
        session_id: Uuid,
        status: SessionStatus,
    ) -> Result<Session, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        let current = session(&mut tx, session_id, Hold::Exclusive).await?;
        current.require_facilitator(actor.id)?;
        let now = Utc::now();
        let moved = current.moved_to(status, now)?;
        let row = sqlx::query_as!(
            SessionRow,
            "UPDATE sessions
             SET status = $2,
                 actual_start_time = COALESCE(actual_start_time, $3),
                 actual_end_time = COALESCE(actual_end_time, $4)
             WHERE id = $1
             RETURNING id, title, description, facilitator_id, status, scheduled_start_time,
                       actual_start_time, actual_end_time, created_at",
            session_id,
            moved.status.as_str(),
            moved.actual_start_time,
            moved.actual_end_time,
        )
        .fetch_one(&mut *tx)
        .await?;
        let updated = Session::try_from(row)?;
        emit(
            &mut tx,
            session_id,
            events::session_status_changed(&updated, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }
}
