//! How domain values look on the wire: protobuf messages for gRPC responses
//! and for event payloads (one conversion serves both, so a topic in an event
//! is byte-for-byte what `GetSession` would return).

use pulse_proto::leancoffee::v1 as proto;
use pulse_service::timestamp;

use crate::domain::{Participant, Session, SessionSnapshot, Topic};

impl From<&Session> for proto::Session {
    fn from(session: &Session) -> Self {
        Self {
            id: session.id.to_string(),
            title: session.title.clone(),
            description: session.description.clone(),
            facilitator_id: session.facilitator_id.to_string(),
            status: session.status.as_str().to_owned(),
            scheduled_start_time: session.scheduled_start_time.map(timestamp),
            actual_start_time: session.actual_start_time.map(timestamp),
            actual_end_time: session.actual_end_time.map(timestamp),
            created_at: timestamp(session.created_at),
        }
    }
}

impl From<&Topic> for proto::Topic {
    fn from(topic: &Topic) -> Self {
        Self {
            id: topic.id.to_string(),
            session_id: topic.session_id.to_string(),
            title: topic.title.clone(),
            description: topic.description.clone(),
            author_id: topic.author_id.to_string(),
            author_name: topic.author_name.clone(),
            status: topic.status.as_str().to_owned(),
            vote_count: topic.vote_count,
            created_at: timestamp(topic.created_at),
            updated_at: topic.updated_at.map(timestamp),
        }
    }
}

impl From<&Participant> for proto::Participant {
    fn from(participant: &Participant) -> Self {
        Self {
            user_id: participant.user_id.to_string(),
            display_name: participant.display_name.clone(),
            role: participant.role.as_str().to_owned(),
            is_active: participant.is_active,
            joined_at: timestamp(participant.joined_at),
            left_at: participant.left_at.map(timestamp),
        }
    }
}

impl From<&SessionSnapshot> for proto::SessionSnapshot {
    fn from(snapshot: &SessionSnapshot) -> Self {
        Self {
            session: Some((&snapshot.session).into()),
            topics: snapshot.topics.iter().map(Into::into).collect(),
            participants: snapshot.participants.iter().map(Into::into).collect(),
            sequence: snapshot.sequence,
            voted_topic_ids: snapshot
                .voted_topic_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}
