//! Negotiated connections, by their secret token.
//!
//! Negotiate creates an entry; the transport request carrying `id=<token>`
//! activates it. An entry never activated (the client fell back to another
//! transport, which negotiates again) is reaped after the disconnect timeout.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use pulse_auth::Identity;
use uuid::Uuid;

use crate::{
    hub::HubKind,
    protocol::{ConnectionIds, NegotiateVersion},
};

#[derive(Debug)]
enum State {
    Negotiated { at: Instant },
    Active,
}

#[derive(Debug)]
struct Entry {
    connection_id: Arc<str>,
    hub: HubKind,
    user_id: Uuid,
    state: State,
}

/// A connection ready to run.
#[derive(Debug, Clone)]
pub struct Negotiated {
    pub connection_id: Arc<str>,
    pub token: String,
}

/// Why a transport request cannot take over a negotiated connection; each maps
/// to the status code ASP.NET Core answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ActivateError {
    /// Unknown or expired token, another hub, or another user: 404.
    #[error("No Connection with that ID")]
    NotFound,
    /// A transport is already attached: 409.
    #[error("Connection is already active")]
    AlreadyActive,
}

#[derive(Debug, Default)]
pub struct Registry {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Registry {
    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn negotiate(
        &self,
        hub: HubKind,
        identity: &Identity,
        version: NegotiateVersion,
    ) -> ConnectionIds {
        let ids = ConnectionIds::generate(version);
        self.entries().insert(
            ids.token.clone(),
            Entry {
                connection_id: Arc::from(ids.id.as_str()),
                hub,
                user_id: identity.user_id,
                state: State::Negotiated { at: Instant::now() },
            },
        );
        ids
    }

    /// Marks a negotiated connection active for `identity` on `hub`.
    pub fn activate(
        &self,
        token: &str,
        hub: HubKind,
        identity: &Identity,
    ) -> Result<Negotiated, ActivateError> {
        let mut entries = self.entries();
        let entry = entries
            .get_mut(token)
            .filter(|e| e.hub == hub && e.user_id == identity.user_id)
            .ok_or(ActivateError::NotFound)?;
        match entry.state {
            State::Active => Err(ActivateError::AlreadyActive),
            State::Negotiated { .. } => {
                entry.state = State::Active;
                Ok(Negotiated {
                    connection_id: entry.connection_id.clone(),
                    token: token.to_owned(),
                })
            }
        }
    }

    /// A connection that skipped negotiation (WebSockets only).
    pub fn create_active(&self, hub: HubKind, identity: &Identity) -> Negotiated {
        let ids = ConnectionIds::generate(NegotiateVersion::V1);
        let connection_id: Arc<str> = Arc::from(ids.id.as_str());
        self.entries().insert(
            ids.token.clone(),
            Entry {
                connection_id: connection_id.clone(),
                hub,
                user_id: identity.user_id,
                state: State::Active,
            },
        );
        Negotiated {
            connection_id,
            token: ids.token,
        }
    }

    pub fn remove(&self, token: &str) {
        self.entries().remove(token);
    }

    /// Drops negotiated connections that no transport took within `timeout`.
    pub fn reap(&self, timeout: Duration) -> usize {
        let mut entries = self.entries();
        let before = entries.len();
        entries.retain(|_, entry| match entry.state {
            State::Active => true,
            State::Negotiated { at } => at.elapsed() < timeout,
        });
        before - entries.len()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            user_id: Uuid::new_v4(),
            name: "Ann".into(),
            roles: vec![],
            expires_at: i64::MAX,
        }
    }

    #[test]
    fn a_negotiated_connection_activates_once() {
        let registry = Registry::default();
        let ann = identity();
        let ids = registry.negotiate(HubKind::ShoppingList, &ann, NegotiateVersion::V1);
        let active = registry
            .activate(&ids.token, HubKind::ShoppingList, &ann)
            .expect("activates");
        assert_eq!(&*active.connection_id, ids.id);
        assert_eq!(
            registry
                .activate(&ids.token, HubKind::ShoppingList, &ann)
                .map(|_| ()),
            Err(ActivateError::AlreadyActive)
        );
    }

    #[test]
    fn another_user_cannot_take_a_negotiated_connection() {
        let registry = Registry::default();
        let ids = registry.negotiate(HubKind::ShoppingList, &identity(), NegotiateVersion::V1);
        assert_eq!(
            registry
                .activate(&ids.token, HubKind::ShoppingList, &identity())
                .map(|_| ()),
            Err(ActivateError::NotFound)
        );
    }

    #[test]
    fn unused_negotiations_are_reaped_and_active_ones_kept() {
        let registry = Registry::default();
        let ann = identity();
        let unused = registry.negotiate(HubKind::ShoppingList, &ann, NegotiateVersion::V1);
        let used = registry.negotiate(HubKind::ShoppingList, &ann, NegotiateVersion::V1);
        registry
            .activate(&used.token, HubKind::ShoppingList, &ann)
            .expect("activates");
        assert_eq!(registry.reap(Duration::ZERO), 1);
        assert_eq!(
            registry
                .activate(&unused.token, HubKind::ShoppingList, &ann)
                .map(|_| ()),
            Err(ActivateError::NotFound)
        );
        assert_eq!(registry.len(), 1);
    }
}
