//! Who is present through this gateway, counted per (scope, user): a user's
//! tabs on one gateway are one presence at the owning service, so only the
//! first tab enters it, only the last one exits it, and the keep-alive
//! confirms it once however many tabs share it. 10,000 tabs of one user
//! joining one list are then one presence to record, not 10,000.
//!
//! Pure bookkeeping, no I/O: the calls these decisions ask for are made by
//! the caller (see the module above).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use uuid::Uuid;

use super::Scope;
use crate::hub::OnBehalf;

/// One user's presence in one scope through this gateway.
struct Stay {
    /// The id the service knows this presence by (its "connection"). New for
    /// every stay, so an exit still on its way for an ended stay never
    /// removes the one that replaced it.
    key: Arc<str>,
    /// The newest joiner's credentials: the keep-alive and the exit are
    /// sent with the freshest token the user gave.
    credentials: OnBehalf,
    /// The user's connections counted in, after their enter succeeded.
    connections: HashSet<Arc<str>>,
}

/// A presence the service should hear about: its scope, key and credentials.
#[derive(Clone)]
pub(super) struct Held {
    pub scope: Scope,
    pub user: Uuid,
    pub key: Arc<str>,
    pub credentials: OnBehalf,
}

/// The stays of this gateway.
#[derive(Default)]
pub(super) struct Stays {
    stays: HashMap<(Scope, Uuid), Stay>,
}

impl Stays {
    /// The stay a joiner enters through: the user's current one, or a new one.
    /// Its credentials become the joiner's.
    pub(super) fn stay_for(&mut self, scope: Scope, user: Uuid, credentials: OnBehalf) -> Held {
        let stay = self.stays.entry((scope, user)).or_insert_with(|| Stay {
            key: Uuid::new_v4().to_string().into(),
            credentials: credentials.clone(),
            connections: HashSet::new(),
        });
        stay.credentials = credentials;
        Held {
            scope,
            user,
            key: stay.key.clone(),
            credentials: stay.credentials.clone(),
        }
    }

    /// Counts the connection in after its enter through `key` succeeded;
    /// false when that stay ended meanwhile (the joiner enters again).
    pub(super) fn arrive(&mut self, held: &Held, connection: &Arc<str>) -> bool {
        match self.current(held) {
            Some(stay) => {
                stay.connections.insert(connection.clone());
                true
            }
            None => false,
        }
    }

    /// The connection leaves; the stay it was the last of ends (unless a
    /// joiner's enter is `busy` on it) and is returned, to be exited.
    pub(super) fn depart(
        &mut self,
        scope: Scope,
        user: Uuid,
        connection: &str,
        busy: impl Fn(&str) -> bool,
    ) -> Option<Held> {
        let stay = self.stays.get_mut(&(scope, user))?;
        if !stay.connections.remove(connection) {
            return None;
        }
        self.end_if_empty(scope, user, busy)
    }

    /// An enter through `held` failed: a stay nobody is in (and nobody is
    /// entering) ends; nothing was recorded for it, so nothing is exited.
    pub(super) fn abandon(&mut self, held: &Held, busy: impl Fn(&str) -> bool) {
        if self.current(held).is_some() {
            self.end_if_empty(held.scope, held.user, busy);
        }
    }

    /// The service refused to keep `held` (its user lost access): it ends
    /// without an exit. The connections stay in their groups until the
    /// event stream or the client removes them.
    pub(super) fn refused(&mut self, held: &Held) {
        if self.current(held).is_some() {
            self.stays.remove(&(held.scope, held.user));
        }
    }

    /// Whether `held` is still the user's stay.
    pub(super) fn is_current(&mut self, held: &Held) -> bool {
        self.current(held).is_some()
    }

    /// The stay the connection is counted in.
    pub(super) fn of(&self, scope: Scope, user: Uuid, connection: &str) -> Option<Held> {
        let stay = self.stays.get(&(scope, user))?;
        stay.connections.contains(connection).then(|| Held {
            scope,
            user,
            key: stay.key.clone(),
            credentials: stay.credentials.clone(),
        })
    }

    /// The keep-alive's round: the stays to confirm, and the ones that ended
    /// empty (their joiners went away before counting in) to exit.
    pub(super) fn round(&mut self, busy: impl Fn(&str) -> bool) -> (Vec<Held>, Vec<Held>) {
        let mut ended = Vec::new();
        self.stays.retain(|&(scope, user), stay| {
            let keep = !stay.connections.is_empty() || busy(&stay.key);
            if !keep {
                ended.push(Held {
                    scope,
                    user,
                    key: stay.key.clone(),
                    credentials: stay.credentials.clone(),
                });
            }
            keep
        });
        let held = self
            .stays
            .iter()
            .map(|(&(scope, user), stay)| Held {
                scope,
                user,
                key: stay.key.clone(),
                credentials: stay.credentials.clone(),
            })
            .collect();
        (held, ended)
    }

    /// Stays, and connections counted in them.
    pub(super) fn len(&self) -> (usize, usize) {
        let connections = self.stays.values().map(|s| s.connections.len()).sum();
        (self.stays.len(), connections)
    }

    fn current(&mut self, held: &Held) -> Option<&mut Stay> {
        self.stays
            .get_mut(&(held.scope, held.user))
            .filter(|stay| stay.key == held.key)
    }

    fn end_if_empty(
        &mut self,
        scope: Scope,
        user: Uuid,
        busy: impl Fn(&str) -> bool,
    ) -> Option<Held> {
        let stay = self.stays.get(&(scope, user))?;
        if !stay.connections.is_empty() || busy(&stay.key) {
            return None;
        }
        let stay = self.stays.remove(&(scope, user))?;
        Some(Held {
            scope,
            user,
            key: stay.key,
            credentials: stay.credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> OnBehalf {
        OnBehalf::new("token").expect("a header value")
    }

    fn idle(_: &str) -> bool {
        false
    }

    #[test]
    fn a_users_tabs_share_one_stay_that_the_last_one_out_ends() {
        let mut stays = Stays::default();
        let (scope, user) = (Scope::List(Uuid::new_v4()), Uuid::new_v4());
        let (one, two): (Arc<str>, Arc<str>) = ("c1".into(), "c2".into());
        let held = stays.stay_for(scope, user, credentials());
        assert!(stays.arrive(&held, &one));
        let again = stays.stay_for(scope, user, credentials());
        assert_eq!(again.key, held.key, "the second tab enters the same stay");
        assert!(stays.arrive(&again, &two));
        assert_eq!(stays.len(), (1, 2));
        assert!(stays.depart(scope, user, &one, idle).is_none());
        let ended = stays
            .depart(scope, user, &two, idle)
            .expect("the last one out");
        assert_eq!(ended.key, held.key);
        assert_eq!(stays.len(), (0, 0));
        assert!(stays.depart(scope, user, &two, idle).is_none(), "only once");
    }

    #[test]
    fn a_stay_being_entered_outlives_its_last_tab_until_the_keep_alive_round() {
        let mut stays = Stays::default();
        let (scope, user) = (Scope::Session(Uuid::new_v4()), Uuid::new_v4());
        let one: Arc<str> = "c1".into();
        let held = stays.stay_for(scope, user, credentials());
        assert!(stays.arrive(&held, &one));
        assert!(stays.depart(scope, user, &one, |_| true).is_none());
        let (confirmed, ended) = stays.round(|_| true);
        assert_eq!((confirmed.len(), ended.len()), (1, 0));
        let (confirmed, ended) = stays.round(idle);
        assert!(confirmed.is_empty());
        assert_eq!(
            ended.iter().map(|h| &h.key).collect::<Vec<_>>(),
            [&held.key]
        );
    }

    #[test]
    fn an_ended_stay_is_replaced_by_one_with_a_new_key() {
        let mut stays = Stays::default();
        let (scope, user) = (Scope::List(Uuid::new_v4()), Uuid::new_v4());
        let (one, two): (Arc<str>, Arc<str>) = ("c1".into(), "c2".into());
        let old = stays.stay_for(scope, user, credentials());
        assert!(stays.arrive(&old, &one));
        assert!(stays.depart(scope, user, &one, idle).is_some());
        let new = stays.stay_for(scope, user, credentials());
        assert_ne!(
            new.key, old.key,
            "an exit on its way never ends the new stay"
        );
        assert!(
            !stays.arrive(&old, &two),
            "the old stay's joiner enters again"
        );
        assert!(stays.arrive(&new, &two));
        stays.refused(&new);
        assert_eq!(stays.len(), (0, 0));
    }
}
