//! The task-notification events' facts: none ends a group membership; a
//! `VirtualKeyRevoked` (on the key-revocations topic, which every gateway
//! follows) ends a virtual key, closing its connections.

use super::v1::{
    BudgetAlert, ConfigurationChanged, MediaCompleted, MediaFailed, MediaProgress,
    NavigationUpdated, ProviderHealthChanged, RateLimitWarning, SpendUpdate, SystemAlert,
    TaskCompleted, TaskFailed, TaskProgress, TaskStarted, UnusualSpending, VirtualKeyRevoked,
    WebhookDelivered, WebhookFailed,
};
use crate::EventFacts;

impl EventFacts for MediaProgress {}
impl EventFacts for MediaCompleted {}
impl EventFacts for MediaFailed {}
impl EventFacts for TaskStarted {}
impl EventFacts for TaskProgress {}
impl EventFacts for TaskCompleted {}
impl EventFacts for TaskFailed {}
impl EventFacts for SpendUpdate {}
impl EventFacts for BudgetAlert {}
impl EventFacts for UnusualSpending {}
impl EventFacts for WebhookDelivered {}
impl EventFacts for WebhookFailed {}
impl EventFacts for NavigationUpdated {}
impl EventFacts for ProviderHealthChanged {}
impl EventFacts for RateLimitWarning {}
impl EventFacts for SystemAlert {}
impl EventFacts for ConfigurationChanged {}

impl EventFacts for VirtualKeyRevoked {
    fn revoked_key(&self) -> Option<&str> {
        Some(&self.virtual_key_id)
    }
}
