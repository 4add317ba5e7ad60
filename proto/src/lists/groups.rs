//! The shopping-list domain's group kinds.

use pulse_groups::{GroupKind, PerEntityKind};

/// A shopping list: group `list_{id}`.
pub const LIST: PerEntityKind = PerEntityKind::new("list", "lists");

/// Every kind of this domain, for the registry and the service's streams.
pub const GROUP_KINDS: &[GroupKind] = &[LIST.kind()];
