//! Group kinds, declared as `const` items by the domain that owns them.

use std::{
    fmt,
    hash::{Hash, Hasher},
};

use uuid::Uuid;

use crate::Topic;

/// One kind of delivery group and the broker stream it lives in: its group
/// name (a per-entity kind's prefix, `list` for `list_{id}`; a singleton's
/// whole name, `system-notifications`) and its token, the subject token and
/// stream-name suffix (`lists`).
///
/// Two kinds are equal when their tokens are: a token names one stream, and
/// `const` items have no identity to compare.
#[derive(Clone, Copy)]
pub struct GroupKind {
    name: &'static str,
    token: &'static str,
    shape: Shape,
}

/// Whether a kind has a group per entity or is one group for everybody.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    PerEntity,
    Singleton,
}

impl GroupKind {
    /// The subject token and stream-name suffix (`lists`).
    pub const fn token(&self) -> &'static str {
        self.token
    }

    /// A per-entity kind's group prefix (`list`) or a singleton's group name
    /// (`system-notifications`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) const fn shape(&self) -> Shape {
        self.shape
    }
}

impl PartialEq for GroupKind {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token
    }
}

impl Eq for GroupKind {}

impl Hash for GroupKind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.token.hash(state);
    }
}

impl fmt::Debug for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token)
    }
}

/// A kind with one group per entity (`list_{id}`): the only kind that
/// makes a topic from an id, so a singleton cannot be given one.
#[derive(Debug, Clone, Copy)]
pub struct PerEntityKind(GroupKind);

impl PerEntityKind {
    /// A kind whose groups are `{prefix}_{id}`, in the stream `token`.
    pub const fn new(prefix: &'static str, token: &'static str) -> Self {
        Self(GroupKind {
            name: prefix,
            token,
            shape: Shape::PerEntity,
        })
    }

    /// The group that follows entity `id`.
    pub const fn topic(&self, id: Uuid) -> Topic {
        Topic::new(self.0, Some(id))
    }

    pub const fn kind(&self) -> GroupKind {
        self.0
    }
}

/// A kind that is one group for everybody (`system-notifications`).
#[derive(Debug, Clone, Copy)]
pub struct SingletonKind(GroupKind);

impl SingletonKind {
    /// The group `group`, in the stream `token`.
    pub const fn new(group: &'static str, token: &'static str) -> Self {
        Self(GroupKind {
            name: group,
            token,
            shape: Shape::Singleton,
        })
    }

    /// The one group of this kind.
    pub const fn topic(&self) -> Topic {
        Topic::new(self.0, None)
    }

    pub const fn kind(&self) -> GroupKind {
        self.0
    }
}
