//! Rows as the queries return them, and their conversion into domain values.
//! Kept apart from the domain so `sqlx` stays out of it.

use chrono::{DateTime, Utc};
use pulse_service::StorageError;
use uuid::Uuid;

use crate::domain::{Participant, Role, Session, SessionStatus, Topic, TopicStatus};
use crate::LeanCoffeeError;

/// `sqlx::query_as!` for [`TopicRow`]s: `$before` (`SELECT`, or a write
/// ending in `RETURNING` on table alias `t`), a topic's columns with its
/// vote count (counted from the stored votes rather than kept as a number
/// that could drift), then `$after` (`FROM topics t WHERE ...`, or `""`). A
/// macro because the checked query must be one literal, and the columns are
/// the same for the five queries that read topics.
macro_rules! query_topics {
    ($before:literal, $after:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            $crate::store::rows::TopicRow,
            $before
                + r#" t.id, t.session_id, t.title, t.description, t.author_id, t.author_name,
                     t.status,
                     (SELECT count(*) FROM votes v WHERE v.topic_id = t.id)::int4 AS "vote_count!",
                     t.created_at, t.updated_at "#
                + $after
            $(, $arg)*
        )
    };
}
pub(super) use query_topics;

#[derive(Debug)]
pub(super) struct SessionRow {
    pub(super) id: Uuid,
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) facilitator_id: Uuid,
    pub(super) status: String,
    pub(super) scheduled_start_time: Option<DateTime<Utc>>,
    pub(super) actual_start_time: Option<DateTime<Utc>>,
    pub(super) actual_end_time: Option<DateTime<Utc>>,
    pub(super) created_at: DateTime<Utc>,
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

#[derive(Debug)]
pub(super) struct TopicRow {
    pub(super) id: Uuid,
    pub(super) session_id: Uuid,
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) author_id: Uuid,
    pub(super) author_name: String,
    pub(super) status: String,
    pub(super) vote_count: i32,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: Option<DateTime<Utc>>,
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

#[derive(Debug)]
pub(super) struct ParticipantRow {
    pub(super) user_id: Uuid,
    pub(super) display_name: String,
    pub(super) role: String,
    pub(super) is_active: bool,
    pub(super) joined_at: DateTime<Utc>,
    pub(super) left_at: Option<DateTime<Utc>>,
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
