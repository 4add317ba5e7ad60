//! The task-notification events' facts: none ends a group membership (a
//! revoked key's connections are closed by `VirtualKeyRevoked` on its own
//! group, which the gateway watches).

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
impl EventFacts for VirtualKeyRevoked {}
