//! Delivery groups: what a kind of group is ([`GroupKind`]), what one group
//! is ([`Topic`]) and how a group name is read back ([`GroupKinds`]). No kind
//! is listed here: each domain declares its own beside its events (in the
//! proto crate), so a new kind is a line in its domain's file and nothing
//! shared.

mod kind;
mod registry;
mod topic;

pub use kind::{GroupKind, PerEntityKind, SingletonKind};
pub use registry::GroupKinds;
pub use topic::Topic;
