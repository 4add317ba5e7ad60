//! How domain values look on the wire: protobuf messages for gRPC responses
//! and for event payloads (one conversion serves both, so the goal in
//! `GoalAssigned` is byte-for-byte what `AssignGoal` returned).

use pulse_proto::coaching::v1 as proto;
use pulse_service::timestamp;

use crate::domain::{
    ChatMessage, Conversation, ConversationPage, Goal, GoalProgress, Notification, Relationship,
    DATE_FORMAT,
};

impl From<&ChatMessage> for proto::ChatMessage {
    fn from(message: &ChatMessage) -> Self {
        Self {
            id: message.id.to_string(),
            sender_id: message.sender_id.to_string(),
            recipient_id: message.recipient_id.to_string(),
            message: message.message.clone(),
            sent_at: timestamp(message.sent_at),
            read_at: message.read_at.map(timestamp),
        }
    }
}

impl From<&Conversation> for proto::Conversation {
    fn from(conversation: &Conversation) -> Self {
        Self {
            user_id: conversation.user_id.to_string(),
            last_message: Some((&conversation.last_message).into()),
            unread_count: conversation.unread_count,
        }
    }
}

impl From<&ConversationPage> for proto::ConversationPage {
    fn from(page: &ConversationPage) -> Self {
        Self {
            messages: page.messages.iter().map(Into::into).collect(),
            next_before: page.next_before.map(|id| id.to_string()),
        }
    }
}

impl From<&Relationship> for proto::Relationship {
    fn from(relationship: &Relationship) -> Self {
        Self {
            id: relationship.id.to_string(),
            trainer_id: relationship.trainer_id.to_string(),
            client_id: relationship.client_id.to_string(),
            status: relationship.status.as_str().to_owned(),
            can_edit_goals: relationship.can_edit_goals,
            created_at: timestamp(relationship.created_at),
            updated_at: timestamp(relationship.updated_at),
        }
    }
}

impl From<&Goal> for proto::Goal {
    fn from(goal: &Goal) -> Self {
        Self {
            id: goal.id.to_string(),
            user_id: goal.user_id.to_string(),
            trainer_id: goal.trainer_id.map(|id| id.to_string()),
            goal_type: goal.goal_type.clone(),
            target_calories: goal.targets.calories,
            target_protein_grams: goal.targets.protein_grams,
            target_carbs_grams: goal.targets.carbs_grams,
            target_fat_grams: goal.targets.fat_grams,
            target_date: goal
                .target_date
                .map(|date| date.format(DATE_FORMAT).to_string()),
            created_at: timestamp(goal.created_at),
            updated_at: timestamp(goal.updated_at),
        }
    }
}

impl From<&GoalProgress> for proto::GoalProgress {
    fn from(progress: &GoalProgress) -> Self {
        Self {
            id: progress.id.to_string(),
            goal_id: progress.goal_id.to_string(),
            user_id: progress.user_id.to_string(),
            value: progress.value,
            notes: progress.notes.clone(),
            recorded_at: timestamp(progress.recorded_at),
        }
    }
}

impl From<&Notification> for proto::Notification {
    fn from(notification: &Notification) -> Self {
        Self {
            id: notification.id.to_string(),
            user_id: notification.user_id.to_string(),
            kind: notification.kind.clone(),
            title: notification.title.clone(),
            body: notification.body.clone(),
            created_at: timestamp(notification.created_at),
        }
    }
}
