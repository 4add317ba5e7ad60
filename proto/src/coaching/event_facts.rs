//! The coaching events' facts: none ends anyone's access (each goes to a
//! user's own groups).

use super::v1::{
    ChatMessage, ClientProgressUpdate, Goal, MessageDeleted, MessageRead, Notification,
    RelationshipUpdated,
};
use crate::EventFacts;

impl EventFacts for ChatMessage {}
impl EventFacts for MessageRead {}
impl EventFacts for MessageDeleted {}
impl EventFacts for Goal {}
impl EventFacts for ClientProgressUpdate {}
impl EventFacts for RelationshipUpdated {}
impl EventFacts for Notification {}
