//! The Lean Coffee domain's group kinds.

use pulse_groups::{GroupKind, PerEntityKind};

/// A Lean Coffee session: group `session_{id}`.
pub const SESSION: PerEntityKind = PerEntityKind::new("session", "sessions");

/// Every kind of this domain, for the registry and the service's streams.
pub const GROUP_KINDS: &[GroupKind] = &[SESSION.kind()];
