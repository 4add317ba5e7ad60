//! The rules of Lean Coffee, without I/O: what a valid session, topic or
//! status is, which status changes are allowed, who may do what. The store
//! calls these inside its transactions; nothing here knows about SQL or
//! protobuf.

mod participant;
mod session;
mod text;
mod topic;

use uuid::Uuid;

pub use participant::{ConnectionId, Participant, Role};
pub use session::{NewSession, Session, SessionStatus};
pub use topic::{require_topic_manager, NewTopic, Topic, TopicPatch, TopicStatus};

/// The caller, as their token names them. Events and participant rows carry
/// the display name the user had when they acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    pub display_name: String,
}

/// A session as `GetSession` returns it: read in one snapshot, together with
/// the sequence of the last event that snapshot reflects.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSnapshot {
    pub session: Session,
    pub topics: Vec<Topic>,
    pub participants: Vec<Participant>,
    pub sequence: u64,
    /// Topics the caller has voted for, so a client can show its own votes.
    pub voted_topic_ids: Vec<Uuid>,
}
