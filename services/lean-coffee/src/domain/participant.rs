//! Participants: who has entered a session, in which role, and whether they
//! are there now. The store keeps one row per user and one per connection;
//! a user is active while any of their connections is.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{text, Session};
use crate::LeanCoffeeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Facilitator,
    Participant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Facilitator => "Facilitator",
            Role::Participant => "Participant",
        }
    }

    /// A role as the database stores it (its CHECK allows nothing else).
    pub fn from_stored(value: &str) -> Option<Self> {
        [Role::Facilitator, Role::Participant]
            .into_iter()
            .find(|role| role.as_str() == value)
    }

    /// The facilitator enters as Facilitator, everyone else as Participant.
    pub fn of(session: &Session, user_id: Uuid) -> Self {
        if session.is_facilitator(user_id) {
            Role::Facilitator
        } else {
            Role::Participant
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub is_active: bool,
    /// When the user first entered the session.
    pub joined_at: DateTime<Utc>,
    /// When the user's last connection went; `None` while active.
    pub left_at: Option<DateTime<Utc>>,
}

/// Longest connection id accepted.
const CONNECTION_ID_MAX: usize = 200;

/// The gateway's id of one connection, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionId(String);

impl ConnectionId {
    pub fn new(id: &str) -> Result<Self, LeanCoffeeError> {
        text::required("connectionId", id, CONNECTION_ID_MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_or_huge_connection_ids_are_refused() {
        assert!(ConnectionId::new(" ").is_err());
        assert!(ConnectionId::new(&"c".repeat(201)).is_err());
        assert!(ConnectionId::new("c\0").is_err());
        assert_eq!(
            ConnectionId::new(" abc ").map(|id| id.0).ok().as_deref(),
            Some("abc")
        );
    }
}
