//! The task-notification domain's group kinds: requests, tasks, virtual
//! keys, and the groups that are one for everybody.

use pulse_groups::{GroupKind, PerEntityKind, SingletonKind};

/// A video generation request: group `video_{requestId}`.
pub const VIDEO: PerEntityKind = PerEntityKind::new("video", "video");

/// An image generation request: group `image_{requestId}`.
pub const IMAGE: PerEntityKind = PerEntityKind::new("image", "image");

/// A generic task: group `task_{taskId}`.
pub const TASK: PerEntityKind = PerEntityKind::new("task", "task");

/// A virtual key's spend: group `spend_{virtualKeyId}`.
pub const SPEND: PerEntityKind = PerEntityKind::new("spend", "spend");

/// A virtual key's webhook deliveries: group `webhooks_{virtualKeyId}`.
pub const WEBHOOKS: PerEntityKind = PerEntityKind::new("webhooks", "webhooks");

/// A virtual key's navigation state: group `navigation_{virtualKeyId}`.
pub const NAVIGATION: PerEntityKind = PerEntityKind::new("navigation", "navigation");

/// Provider health and rate limits for everyone: group
/// `system-notifications`.
pub const SYSTEM: SingletonKind = SingletonKind::new("system-notifications", "system");

/// Master-key connections: group `admin`.
pub const ADMIN: SingletonKind = SingletonKind::new("admin", "admin");

/// Virtual keys revoked, for gateways to close what they authenticated:
/// group `key-revocations`.
pub const KEY_REVOCATIONS: SingletonKind = SingletonKind::new("key-revocations", "revocations");

/// Every kind of this domain, for the registry and the service's streams.
pub const GROUP_KINDS: &[GroupKind] = &[
    VIDEO.kind(),
    IMAGE.kind(),
    TASK.kind(),
    SPEND.kind(),
    WEBHOOKS.kind(),
    NAVIGATION.kind(),
    SYSTEM.kind(),
    ADMIN.kind(),
    KEY_REVOCATIONS.kind(),
];
