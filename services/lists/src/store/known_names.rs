//! The display names this process has recorded lately, so that a command
//! whose token carries the name already stored costs no statement at all.
//! Recording a name is a write (the upsert locks the user row even when the
//! name is unchanged), and a write per command is a flush per command.
//! A name another replica stored since is not seen here, so until this map
//! starts over an unchanged token does not write its name back over it:
//! names are display hints, never identities.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use uuid::Uuid;

/// Names kept at most; when full, the map starts over (each user then costs
/// one more upsert), which bounds memory without bookkeeping per hit.
const CAPACITY: usize = 65_536;

#[derive(Debug, Default)]
pub(super) struct KnownNames {
    names: Mutex<HashMap<Uuid, String>>,
}

impl KnownNames {
    /// The stored name if recording `given` (trimmed) would change nothing:
    /// it equals the stored one, or is empty and a name is stored.
    pub fn unchanged(&self, id: Uuid, given: &str) -> Option<String> {
        let names = self.lock();
        let stored = names.get(&id)?;
        (given.is_empty() || given == stored).then(|| stored.clone())
    }

    /// Notes the names now stored for these users.
    pub fn stored<'a>(&self, users: impl IntoIterator<Item = (Uuid, &'a str)>) {
        let mut names = self.lock();
        for (id, name) in users {
            if names.len() >= CAPACITY && !names.contains_key(&id) {
                names.clear();
            }
            names.insert(id, name.to_owned());
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, String>> {
        // The map holds no invariant a panic could break halfway.
        self.names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_name_that_would_change_nothing_is_known() {
        let known = KnownNames::default();
        let ann = Uuid::new_v4();
        assert_eq!(known.unchanged(ann, "Ann"), None, "never recorded");
        known.stored([(ann, "Ann")]);
        assert_eq!(known.unchanged(ann, "Ann").as_deref(), Some("Ann"));
        assert_eq!(
            known.unchanged(ann, "").as_deref(),
            Some("Ann"),
            "a token without a name keeps the stored one"
        );
        assert_eq!(known.unchanged(ann, "Anna"), None, "a new name is written");
    }

    #[test]
    fn a_full_map_starts_over_instead_of_growing() {
        let known = KnownNames::default();
        let first = Uuid::new_v4();
        known.stored([(first, "first")]);
        for _ in 1..CAPACITY {
            known.stored([(Uuid::new_v4(), "someone")]);
        }
        assert!(known.unchanged(first, "first").is_some());
        known.stored([(Uuid::new_v4(), "one too many")]);
        assert_eq!(known.lock().len(), 1);
        assert!(known.unchanged(first, "first").is_none());
    }
}
