//! Virtual keys the task service accepted a moment ago. Long polling sends a request every few
//! seconds per client, each carrying the key; asking the task service (and its database) every
//! time would make it the bottleneck of the gateway. An accepted key is trusted for a short TTL;
//! entries are found by a hash of the key, so the cache holds no secret, and a revoked key is
//! never served from it: [`Revocations`] (fed by the revocation topic) is asked on every hit.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

use super::Principal;
use crate::node::Revocations;

/// How a key is found in the cache.
pub(super) type KeyHash = [u8; 32];

pub(super) fn hash(token: &str) -> KeyHash {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Debug)]
pub(super) struct KeyCache {
    ttl: Duration,
    capacity: usize,
    revocations: Arc<Revocations>,
    entries: Mutex<HashMap<KeyHash, (Principal, Instant)>>,
}

impl KeyCache {
    /// A TTL of zero or a capacity of zero turns caching off.
    pub(super) fn new(ttl: Duration, capacity: usize, revocations: Arc<Revocations>) -> Self {
        Self {
            ttl,
            capacity,
            revocations,
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<KeyHash, (Principal, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The principal of a key accepted less than the TTL ago and not revoked since.
    pub(super) fn get(&self, key: &KeyHash) -> Option<Principal> {
        let mut entries = self.entries();
        let (principal, at) = entries.get(key)?;
        if at.elapsed() < self.ttl && !self.revocations.is_revoked(principal.id()) {
            return Some(principal.clone());
        }
        entries.remove(key);
        None
    }

    /// Remembers an accepted key. When full, expired entries go first, then the oldest.
    pub(super) fn put(&self, key: KeyHash, principal: Principal) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
            let oldest = entries
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(key, _)| *key);
            if let (true, Some(oldest)) = (entries.len() >= self.capacity, oldest) {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, (principal, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use pulse_auth::Identity;
    use uuid::Uuid;

    use super::*;
    use crate::principal::PrincipalKind;

    fn key_principal(id: Uuid) -> Principal {
        Principal {
            identity: Identity {
                user_id: id,
                name: "studio".into(),
                roles: vec![],
                expires_at: i64::MAX,
            },
            kind: PrincipalKind::VirtualKey,
        }
    }

    #[test]
    fn a_revoked_key_is_not_served_from_the_cache() {
        let revocations = Arc::new(Revocations::default());
        let cache = KeyCache::new(Duration::from_secs(60), 10, revocations.clone());
        let (kept, revoked) = (Uuid::new_v4(), Uuid::new_v4());
        cache.put(hash("kept"), key_principal(kept));
        cache.put(hash("revoked"), key_principal(revoked));
        revocations.revoke(revoked);
        assert!(cache.get(&hash("revoked")).is_none());
        assert_eq!(cache.get(&hash("kept")).map(|p| p.id()), Some(kept));
    }

    #[test]
    fn the_cache_is_bounded_and_forgets_after_the_ttl() {
        let cache = KeyCache::new(Duration::from_secs(60), 2, Arc::default());
        for name in ["a", "b", "c"] {
            cache.put(hash(name), key_principal(Uuid::new_v4()));
        }
        assert_eq!(cache.entries().len(), 2);
        assert!(cache.get(&hash("a")).is_none(), "the oldest made room");
        assert!(cache.get(&hash("c")).is_some());

        let expired = KeyCache::new(Duration::from_nanos(1), 2, Arc::default());
        expired.put(hash("a"), key_principal(Uuid::new_v4()));
        std::thread::sleep(Duration::from_millis(1));
        assert!(expired.get(&hash("a")).is_none());
    }
}
