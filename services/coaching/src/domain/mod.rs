//! The rules of coaching, without I/O: what a valid message, goal or
//! notification is, how a relationship may change and who may do what. The
//! store calls these inside its transactions; nothing here knows about SQL
//! or protobuf.

mod chat;
mod goal;
mod limit;
mod notification;
mod relationship;
mod text;

use uuid::Uuid;

pub use chat::{pair, ChatMessage, Conversation, ConversationPage, NewMessage};
pub use goal::{
    require_assigner, require_goal_viewer, Goal, GoalProgress, NewGoal, NewProgress, Targets,
    DATE_FORMAT,
};
pub use limit::PageLimit;
pub use notification::{NewNotification, Notification};
pub use relationship::{Invitation, Relationship, RelationshipStatus, RELATIONSHIP_NOT_FOUND};

/// The one refusal for callers lacking what a goal or notification call
/// needs; the seed words it this way and shows nothing more.
pub const NOT_AUTHORIZED: &str = "Not authorized";

/// The caller, as their token names them. Roles are read once, here, so the
/// rules below ask plain questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: Uuid,
    /// The token's display name; may be empty.
    pub name: String,
    /// Role `trainer`: may invite clients and assign goals.
    pub is_trainer: bool,
    /// Role `service` or `admin`: an internal sender of notifications.
    pub is_internal: bool,
}

impl Caller {
    /// `Notify` is for internal senders only.
    pub fn require_internal(&self) -> Result<(), crate::CoachingError> {
        if self.is_internal {
            Ok(())
        } else {
            Err(crate::CoachingError::PermissionDenied(NOT_AUTHORIZED))
        }
    }
}
