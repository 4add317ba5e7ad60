//! Rows as the queries return them, and their conversion into domain values.
//! Kept apart from the domain so `sqlx` stays out of it.

use chrono::{DateTime, Utc};
use pulse_service::StorageError;
use uuid::Uuid;

use crate::domain::{Participant, Role, Session, SessionStatus, Topic, TopicStatus};
use crate::LeanCoffeeError;

/// The columns of a session, for `SELECT` and `RETURNING`.
pub(super) const SESSION_COLUMNS: &str = "id, title, description, facilitator_id, status, \
     scheduled_start_time, actual_start_time, actual_end_time, created_at";

/// The columns of a topic (table alias `t`) with its vote count, counted from
/// the stored votes rather than kept as a number that could drift.
pub(super) const TOPIC_COLUMNS: &str = "t.id, t.session_id, t.title, t.description, \
     t.author_id, t.author_name, t.status, \
     (SELECT count(*) FROM votes v WHERE v.topic_id = t.id)::int4 AS vote_count, \
     t.created_at, t.updated_at";

/// The columns of a participant.
pub(super) const PARTICIPANT_COLUMNS: &str =
    "user_id, display_name, role, is_active, joined_at, left_at";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct SessionRow {
    id: Uuid,
    title: String,
    description: Option<String>,
    facilitator_id: Uuid,
    status: String,
    scheduled_start_time: Option<DateTime<Utc>>,
    actual_start_time: Option<DateTime<Utc>>,
    actual_end_time: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for Session {
    type Error = LeanCoffeeError;

    fn try_from(row: SessionRow) -> Result<Self, LeanCoffeeError> {
        Ok(Self {
            id: row.id,
            title: row.title,
            description: row.description,
            facilitator_id: row.facilitator_id,
            status: stored(
                SessionStatus::from_stored(&row.status),
                "session status",
                &row.status,
            )?,
            scheduled_start_time: row.scheduled_start_time,
            actual_start_time: row.actual_start_time,
            actual_end_time: row.actual_end_time,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct TopicRow {
    id: Uuid,
    session_id: Uuid,
    title: String,
    description: Option<String>,
    author_id: Uuid,
    author_name: String,
    status: String,
    vote_count: i32,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<TopicRow> for Topic {
    type Error = LeanCoffeeError;

    fn try_from(row: TopicRow) -> Result<Self, LeanCoffeeError> {
        Ok(Self {
            id: row.id,
            session_id: row.session_id,
            title: row.title,
            description: row.description,
            author_id: row.author_id,
            author_name: row.author_name,
            status: stored(
                TopicStatus::from_stored(&row.status),
                "topic status",
                &row.status,
            )?,
            vote_count: row.vote_count,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ParticipantRow {
    user_id: Uuid,
    display_name: String,
    role: String,
    is_active: bool,
    joined_at: DateTime<Utc>,
    left_at: Option<DateTime<Utc>>,
}

impl TryFrom<ParticipantRow> for Participant {
    type Error = LeanCoffeeError;

    fn try_from(row: ParticipantRow) -> Result<Self, LeanCoffeeError> {
        Ok(Self {
            user_id: row.user_id,
            display_name: row.display_name,
            role: stored(Role::from_stored(&row.role), "role", &row.role)?,
            is_active: row.is_active,
            joined_at: row.joined_at,
            left_at: row.left_at,
        })
    }
}

/// Converts a list of rows, failing on the first that does not convert.
pub(super) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, LeanCoffeeError>
where
    T: TryFrom<R, Error = LeanCoffeeError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// `value` as parsed from the name column `raw`, which must be known.
fn stored<T>(value: Option<T>, what: &str, raw: &str) -> Result<T, LeanCoffeeError> {
    value.ok_or_else(|| StorageError::unknown_stored(what, raw).into())
}
