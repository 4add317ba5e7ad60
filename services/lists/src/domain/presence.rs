//! Presence: which users are looking at a list. The store keeps one row per
//! connection; clients see one entry per user, however many tabs they have.

use std::collections::HashMap;

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

/// Collapses per-connection entries into one per user (their earliest
/// connection's), ordered by when they joined.
pub fn active_users(connections: Vec<ActiveUser>) -> Vec<ActiveUser> {
    let mut earliest: HashMap<Uuid, ActiveUser> = HashMap::new();
    for connection in connections {
        match earliest.get(&connection.id) {
            Some(known) if known.joined_at <= connection.joined_at => {}
            _ => {
                earliest.insert(connection.id, connection);
            }
        }
    }
    let mut users: Vec<ActiveUser> = earliest.into_values().collect();
    users.sort_by(|a, b| a.joined_at.cmp(&b.joined_at).then(a.id.cmp(&b.id)));
    users
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn entry(id: Uuid, name: &str, seconds_ago: i64) -> ActiveUser {
        ActiveUser {
            id,
            display_name: name.into(),
            avatar_url: None,
            joined_at: Utc::now() - Duration::seconds(seconds_ago),
        }
    }

    #[test]
    fn user_with_two_tabs_is_one_active_user_with_the_earliest_join() {
        let ann = Uuid::new_v4();
        let bob = Uuid::new_v4();
        let first = entry(ann, "Ann", 60);
        let users = active_users(vec![
            entry(ann, "Ann", 5),
            entry(bob, "Bob", 30),
            first.clone(),
        ]);
        assert_eq!(users.len(), 2);
        assert_eq!(users[0], first);
        assert_eq!(users[1].id, bob);
    }

    #[test]
    fn blank_connection_id_is_refused() {
        assert!(matches!(
            Connection::new("  ", None),
            Err(ListsError::Invalid(_))
        ));
    }
}
