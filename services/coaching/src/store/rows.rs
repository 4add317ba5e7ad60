//! Rows as the queries return them, and their conversion into domain values.
//! Kept apart from the domain so `sqlx` stays out of it.

use chrono::{DateTime, NaiveDate, Utc};
use pulse_service::StorageError;
use uuid::Uuid;

use crate::domain::{
    ChatMessage, Conversation, Goal, GoalProgress, Notification, Relationship, RelationshipStatus,
    Targets,
};
use crate::CoachingError;

/// The columns of a message (table alias `m`).
pub(super) const MESSAGE_COLUMNS: &str =
    "m.id, m.sender_id, m.recipient_id, m.message, m.sent_at, m.read_at";

/// The columns of a relationship (table alias `r`).
pub(super) const RELATIONSHIP_COLUMNS: &str =
    "r.id, r.trainer_id, r.client_id, r.status, r.can_edit_goals, r.created_at, r.updated_at";

/// The columns of a goal (table alias `g`).
pub(super) const GOAL_COLUMNS: &str = "g.id, g.user_id, g.trainer_id, g.goal_type, \
     g.target_calories, g.target_protein_grams, g.target_carbs_grams, g.target_fat_grams, \
     g.target_date, g.created_at, g.updated_at";

/// The columns of a progress entry (table alias `p`).
pub(super) const PROGRESS_COLUMNS: &str =
    "p.id, p.goal_id, p.user_id, p.value, p.notes, p.recorded_at";

/// The columns of a notification (table alias `n`).
pub(super) const NOTIFICATION_COLUMNS: &str =
    "n.id, n.user_id, n.kind, n.title, n.body, n.created_at";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct MessageRow {
    id: Uuid,
    sender_id: Uuid,
    recipient_id: Uuid,
    message: String,
    sent_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl From<MessageRow> for ChatMessage {
    fn from(row: MessageRow) -> Self {
        Self {
            id: row.id,
            sender_id: row.sender_id,
            recipient_id: row.recipient_id,
            message: row.message,
            sent_at: row.sent_at,
            read_at: row.read_at,
        }
    }
}

/// A conversation of the viewer: the other user, the newest message still
/// shown and how many messages to the viewer are unread.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ConversationRow {
    other_id: Uuid,
    #[sqlx(flatten)]
    last_message: MessageRow,
    unread_count: i64,
}

impl From<ConversationRow> for Conversation {
    fn from(row: ConversationRow) -> Self {
        Self {
            user_id: row.other_id,
            last_message: row.last_message.into(),
            unread_count: u32::try_from(row.unread_count).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct RelationshipRow {
    id: Uuid,
    trainer_id: Uuid,
    client_id: Uuid,
    status: String,
    can_edit_goals: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<RelationshipRow> for Relationship {
    type Error = CoachingError;

    fn try_from(row: RelationshipRow) -> Result<Self, CoachingError> {
        let status = RelationshipStatus::from_stored(&row.status)
            .ok_or_else(|| StorageError::unknown_stored("relationship status", &row.status))?;
        Ok(Self {
            id: row.id,
            trainer_id: row.trainer_id,
            client_id: row.client_id,
            status,
            can_edit_goals: row.can_edit_goals,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct GoalRow {
    id: Uuid,
    user_id: Uuid,
    trainer_id: Option<Uuid>,
    goal_type: String,
    target_calories: Option<i32>,
    target_protein_grams: Option<i32>,
    target_carbs_grams: Option<i32>,
    target_fat_grams: Option<i32>,
    target_date: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<GoalRow> for Goal {
    fn from(row: GoalRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            trainer_id: row.trainer_id,
            goal_type: row.goal_type,
            targets: Targets {
                calories: row.target_calories,
                protein_grams: row.target_protein_grams,
                carbs_grams: row.target_carbs_grams,
                fat_grams: row.target_fat_grams,
            },
            target_date: row.target_date,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ProgressRow {
    id: Uuid,
    goal_id: Uuid,
    user_id: Uuid,
    value: f64,
    notes: Option<String>,
    recorded_at: DateTime<Utc>,
}

impl From<ProgressRow> for GoalProgress {
    fn from(row: ProgressRow) -> Self {
        Self {
            id: row.id,
            goal_id: row.goal_id,
            user_id: row.user_id,
            value: row.value,
            notes: row.notes,
            recorded_at: row.recorded_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct NotificationRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    title: String,
    body: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            kind: row.kind,
            title: row.title,
            body: row.body,
            created_at: row.created_at,
        }
    }
}

/// Converts a list of rows that always convert.
pub(super) fn all<R, T: From<R>>(rows: Vec<R>) -> Vec<T> {
    rows.into_iter().map(T::from).collect()
}
