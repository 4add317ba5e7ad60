//! The coaching domain's group kinds: each follows one user.

use pulse_groups::{GroupKind, PerEntityKind};

/// One user's chat: group `chat_{userId}`, every `/hubs/chat` connection of
/// that user on any gateway (SignalR's `Clients.User`).
pub const CHAT: PerEntityKind = PerEntityKind::new("chat", "chat");

/// One user's goals: group `goals_{userId}` (`/hubs/goals`).
pub const GOALS: PerEntityKind = PerEntityKind::new("goals", "goals");

/// One user's notifications: group `notifications_{userId}`
/// (`/hubs/notifications`).
pub const NOTIFICATIONS: PerEntityKind = PerEntityKind::new("notifications", "notifications");

/// Every kind of this domain, for the registry and the service's streams.
pub const GROUP_KINDS: &[GroupKind] = &[CHAT.kind(), GOALS.kind(), NOTIFICATIONS.kind()];
