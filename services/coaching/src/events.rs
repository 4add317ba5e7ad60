//! The contract events of CONTRACT §3.3, built from domain values as they
//! were stored, so an event and the response of the call that caused it
//! agree. Which user's group each goes to is the store's business.

use chrono::{DateTime, Utc};
use pulse_proto::coaching::v1::{self as proto, event::Kind};
use pulse_service::timestamp;

use crate::domain::{ChatMessage, Goal, GoalProgress, Notification, Relationship};

/// `ReceiveMessage`: the whole message, for the recipient.
pub fn receive_message(message: &ChatMessage) -> Kind {
    Kind::ReceiveMessage(message.into())
}

/// `MessageRead`, for the sender, once the recipient has read it at `read_at`.
pub fn message_read(message: &ChatMessage, read_at: DateTime<Utc>) -> Kind {
    Kind::MessageRead(proto::MessageRead {
        message_id: message.id.to_string(),
        read_at: timestamp(read_at),
    })
}

/// `MessageDeleted`, for both sides.
pub fn message_deleted(message: &ChatMessage, at: DateTime<Utc>) -> Kind {
    Kind::MessageDeleted(proto::MessageDeleted {
        message_id: message.id.to_string(),
        deleted_at: timestamp(at),
    })
}

/// `GoalAssigned`: the goal, for its owner.
pub fn goal_assigned(goal: &Goal) -> Kind {
    Kind::GoalAssigned(goal.into())
}

/// `ClientProgressUpdate`, for a trainer of the goal's owner.
pub fn client_progress_update(progress: &GoalProgress) -> Kind {
    Kind::ClientProgressUpdate(proto::ClientProgressUpdate {
        client_id: progress.user_id.to_string(),
        goal_id: progress.goal_id.to_string(),
        value: progress.value,
        notes: progress.notes.clone(),
    })
}

/// `RelationshipUpdated`: the relationship after the change, for both sides.
pub fn relationship_updated(relationship: &Relationship) -> Kind {
    Kind::RelationshipUpdated(proto::RelationshipUpdated {
        relationship: Some(relationship.into()),
    })
}

/// `ReceiveNotification`: the notification, for its user.
pub fn receive_notification(notification: &Notification) -> Kind {
    Kind::ReceiveNotification(notification.into())
}

#[cfg(test)]
mod tests {
    use pulse_proto::EventName;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::domain::{RelationshipStatus, Targets};

    fn json(kind: &Kind) -> serde_json::Value {
        serde_json::to_value(kind).expect("serializes")
    }

    #[test]
    fn chat_events_carry_the_message_and_its_times() {
        let sent_at = Utc::now();
        let message = ChatMessage {
            id: Uuid::new_v4(),
            sender_id: Uuid::new_v4(),
            recipient_id: Uuid::new_v4(),
            message: "Hi".into(),
            sent_at,
            read_at: None,
        };
        let received = receive_message(&message);
        assert_eq!(received.name(), Some("ReceiveMessage"));
        assert_eq!(
            json(&received),
            json!({
                "id": message.id.to_string(), "senderId": message.sender_id.to_string(),
                "recipientId": message.recipient_id.to_string(), "message": "Hi",
                "sentAt": timestamp(sent_at), "readAt": null
            })
        );
        let read_at = Utc::now();
        let read = message_read(&message, read_at);
        assert_eq!(read.name(), Some("MessageRead"));
        assert_eq!(
            json(&read),
            json!({"messageId": message.id.to_string(), "readAt": timestamp(read_at)})
        );
        assert_eq!(
            message_deleted(&message, read_at).name(),
            Some("MessageDeleted")
        );
    }

    #[test]
    fn progress_update_names_the_client_goal_value_and_notes() {
        let progress = GoalProgress {
            id: Uuid::new_v4(),
            goal_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            value: 1850.5,
            notes: None,
            recorded_at: Utc::now(),
        };
        let kind = client_progress_update(&progress);
        assert_eq!(kind.name(), Some("ClientProgressUpdate"));
        assert_eq!(
            json(&kind),
            json!({
                "clientId": progress.user_id.to_string(), "goalId": progress.goal_id.to_string(),
                "value": 1850.5, "notes": null
            })
        );
    }

    #[test]
    fn goal_and_relationship_events_carry_the_entity() {
        let at = Utc::now();
        let goal = Goal {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            trainer_id: Some(Uuid::new_v4()),
            goal_type: "Cut".into(),
            targets: Targets {
                calories: Some(1800),
                ..Targets::default()
            },
            target_date: chrono::NaiveDate::from_ymd_opt(2030, 1, 31),
            created_at: at,
            updated_at: at,
        };
        let assigned = goal_assigned(&goal);
        assert_eq!(assigned.name(), Some("GoalAssigned"));
        assert_eq!(json(&assigned)["targetDate"], "2030-01-31");
        assert_eq!(json(&assigned)["targetProteinGrams"], json!(null));
        let relationship = Relationship {
            id: Uuid::new_v4(),
            trainer_id: Uuid::new_v4(),
            client_id: Uuid::new_v4(),
            status: RelationshipStatus::Active,
            can_edit_goals: true,
            created_at: at,
            updated_at: at,
        };
        let updated = relationship_updated(&relationship);
        assert_eq!(updated.name(), Some("RelationshipUpdated"));
        assert_eq!(json(&updated)["relationship"]["status"], "Active");
    }
}
