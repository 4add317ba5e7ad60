//! The contract events of CONTRACT §3.2, built from domain values. Each sets
//! `timestamp` to when the change was made, so a payload read alone is
//! complete; vote events carry the count stored after the change.

use chrono::{DateTime, Utc};
use pulse_proto::leancoffee::v1::{self as proto, event::Kind};
use pulse_service::timestamp;
use uuid::Uuid;

use crate::domain::{Actor, Session, Topic};

pub fn participant_joined(session_id: Uuid, user: &Actor, at: DateTime<Utc>) -> Kind {
    Kind::ParticipantJoined(proto::ParticipantJoined {
        session_id: session_id.to_string(),
        user_id: user.id.to_string(),
        display_name: user.display_name.clone(),
        timestamp: timestamp(at),
    })
}

pub fn participant_left(session_id: Uuid, user: &Actor, at: DateTime<Utc>) -> Kind {
    Kind::ParticipantLeft(proto::ParticipantLeft {
        session_id: session_id.to_string(),
        user_id: user.id.to_string(),
        display_name: user.display_name.clone(),
        timestamp: timestamp(at),
    })
}

pub fn topic_added(topic: &Topic, at: DateTime<Utc>) -> Kind {
    Kind::TopicAdded(proto::TopicAdded {
        session_id: topic.session_id.to_string(),
        topic_id: topic.id.to_string(),
        topic: Some(topic.into()),
        timestamp: timestamp(at),
    })
}

pub fn topic_edited(topic: &Topic, at: DateTime<Utc>) -> Kind {
    Kind::TopicEdited(proto::TopicEdited {
        topic_id: topic.id.to_string(),
        session_id: topic.session_id.to_string(),
        topic: Some(topic.into()),
        timestamp: timestamp(at),
    })
}

pub fn topic_deleted(session_id: Uuid, topic_id: Uuid, at: DateTime<Utc>) -> Kind {
    Kind::TopicDeleted(proto::TopicDeleted {
        topic_id: topic_id.to_string(),
        session_id: session_id.to_string(),
        timestamp: timestamp(at),
    })
}

pub fn topic_status_changed(topic: &Topic, at: DateTime<Utc>) -> Kind {
    Kind::TopicStatusChanged(proto::TopicStatusChanged {
        topic_id: topic.id.to_string(),
        session_id: topic.session_id.to_string(),
        status: topic.status.as_str().to_owned(),
        timestamp: timestamp(at),
    })
}

pub fn vote_cast(topic: &Topic, voter: Uuid, at: DateTime<Utc>) -> Kind {
    Kind::VoteCast(proto::VoteCast {
        topic_id: topic.id.to_string(),
        session_id: topic.session_id.to_string(),
        vote_count: topic.vote_count,
        user_id: voter.to_string(),
        timestamp: timestamp(at),
    })
}

pub fn vote_removed(topic: &Topic, voter: Uuid, at: DateTime<Utc>) -> Kind {
    Kind::VoteRemoved(proto::VoteRemoved {
        topic_id: topic.id.to_string(),
        session_id: topic.session_id.to_string(),
        vote_count: topic.vote_count,
        user_id: voter.to_string(),
        timestamp: timestamp(at),
    })
}

pub fn session_status_changed(session: &Session, at: DateTime<Utc>) -> Kind {
    Kind::SessionStatusChanged(proto::SessionStatusChanged {
        session_id: session.id.to_string(),
        status: session.status.as_str().to_owned(),
        timestamp: timestamp(at),
    })
}

#[cfg(test)]
mod tests {
    use pulse_proto::EventName;
    use serde_json::json;

    use super::*;
    use crate::domain::{SessionStatus, TopicStatus};

    #[test]
    fn vote_events_carry_the_stored_count_and_the_voter() {
        let voter = Uuid::new_v4();
        let topic = Topic {
            id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
            title: "Deploys".into(),
            description: None,
            author_id: Uuid::new_v4(),
            author_name: "Ann".into(),
            status: TopicStatus::ToDiscuss,
            vote_count: 3,
            created_at: Utc::now(),
            updated_at: None,
        };
        let at = Utc::now();
        let kind = vote_cast(&topic, voter, at);
        assert_eq!(kind.name(), Some("VoteCast"));
        assert_eq!(
            serde_json::to_value(&kind).expect("serializes"),
            json!({
                "topicId": topic.id.to_string(), "sessionId": topic.session_id.to_string(),
                "voteCount": 3, "userId": voter.to_string(), "timestamp": timestamp(at)
            })
        );
        assert_eq!(vote_removed(&topic, voter, at).name(), Some("VoteRemoved"));
    }

    #[test]
    fn session_status_changed_names_the_new_status() {
        let session = Session {
            id: Uuid::new_v4(),
            title: "Retro".into(),
            description: None,
            facilitator_id: Uuid::new_v4(),
            status: SessionStatus::InProgress,
            scheduled_start_time: None,
            actual_start_time: None,
            actual_end_time: None,
            created_at: Utc::now(),
        };
        let at = Utc::now();
        assert_eq!(
            serde_json::to_value(session_status_changed(&session, at)).expect("serializes"),
            json!({"sessionId": session.id.to_string(), "status": "InProgress", "timestamp": timestamp(at)})
        );
    }
}
