//! Presence: which users are looking at a list. The store keeps one row per
//! connection and one per user present; clients see one entry per user,
//! however many tabs they have.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::text::{optional_text, required_name, URL_MAX};
use crate::ListsError;

/// One active user, as `PresenceUpdate.activeUsers` lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveUser {
    pub id: Uuid,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// When the user's earliest still-open connection entered.
    pub joined_at: DateTime<Utc>,
}

/// A validated presence request: the gateway's connection id and the avatar
/// the client chose to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    pub avatar_url: Option<String>,
}

impl Connection {
    /// The connection id follows the rules of a name (trimmed, required, at
    /// most 200 characters, storable): it is stored and looked up by.
    pub fn new(id: &str, avatar_url: Option<String>) -> Result<Self, ListsError> {
        Ok(Self {
            id: required_name("connectionId", id)?,
            avatar_url: optional_text("avatarUrl", avatar_url, URL_MAX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_connection_id_is_refused() {
        assert!(matches!(
            Connection::new("  ", None),
            Err(ListsError::Invalid(_))
        ));
    }
}
