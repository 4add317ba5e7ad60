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

#[derive(Debug)]
pub(super) struct MessageRow {
    pub(super) id: Uuid,
    pub(super) sender_id: Uuid,
    pub(super) recipient_id: Uuid,
    pub(super) message: String,
    pub(super) sent_at: DateTime<Utc>,
    pub(super) read_at: Option<DateTime<Utc>>,
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
#[derive(Debug)]
pub(super) struct ConversationRow {
    pub(super) other_id: Uuid,
    pub(super) last_message: MessageRow,
    pub(super) unread_count: i64,
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

#[derive(Debug)]
pub(super) struct RelationshipRow {
    pub(super) id: Uuid,
    pub(super) trainer_id: Uuid,
    pub(super) client_id: Uuid,
    pub(super) status: String,
    pub(super) can_edit_goals: bool,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
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

#[derive(Debug)]
pub(super) struct GoalRow {
    pub(super) id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) trainer_id: Option<Uuid>,
    pub(super) goal_type: String,
    pub(super) target_calories: Option<i32>,
    pub(super) target_protein_grams: Option<i32>,
    pub(super) target_carbs_grams: Option<i32>,
    pub(super) target_fat_grams: Option<i32>,
    pub(super) target_date: Option<NaiveDate>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
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

#[derive(Debug)]
pub(super) struct ProgressRow {
    pub(super) id: Uuid,
    pub(super) goal_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) value: f64,
    pub(super) notes: Option<String>,
    pub(super) recorded_at: DateTime<Utc>,
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

#[derive(Debug)]
pub(super) struct NotificationRow {
    pub(super) id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) kind: String,
    pub(super) title: String,
    pub(super) body: Option<String>,
    pub(super) created_at: DateTime<Utc>,
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
