//! One delivery group: a kind and, for a per-entity kind, the entity.

use std::{cmp::Ordering, fmt};

use uuid::Uuid;

use crate::GroupKind;

/// A delivery group: everything that follows one entity (`list_{id}`), or
/// a singleton (`system-notifications`). Made by [`crate::PerEntityKind::topic`]
/// and [`crate::SingletonKind::topic`], so `id` is there exactly when the
/// kind is per entity.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Topic {
    kind: GroupKind,
    id: Option<Uuid>,
}

impl Topic {
    pub(crate) const fn new(kind: GroupKind, id: Option<Uuid>) -> Self {
        Self { kind, id }
    }

    pub fn kind(&self) -> GroupKind {
        self.kind
    }

    /// The entity the topic follows; `None` for the singletons.
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    /// The group name clients' events carry (`list_{id}`).
    pub fn group(&self) -> String {
        self.to_string()
    }
}

/// By stream token, then entity: a total order that needs no list of kinds.
impl Ord for Topic {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.kind.token(), self.id).cmp(&(other.kind.token(), other.id))
    }
}

impl PartialOrd for Topic {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "{}_{id}", self.kind.name()),
            None => f.write_str(self.kind.name()),
        }
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topic({self})")
    }
}
