//! `/hubs/spend-notifications`, `/hubs/webhooks` and
//! `/hubs/admin-notifications` (CONTRACT §3.4): hubs with no methods of
//! their own. A virtual key's connections are in the key's spend or webhook
//! group, master-key connections in the admin group, from connect to close;
//! the task service's events arrive there.

use pulse_proto::tasks::{ADMIN, SPEND, WEBHOOKS};

use super::{
    access::{Access, Follow},
    HubKind, HubSpec,
};
use crate::principal::PrincipalKind;

pub(crate) const SPEND_HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/spend-notifications",
    dotnet_name: "SpendNotificationHub",
    admits: &[PrincipalKind::VirtualKey],
    automatic_groups: |_, key| vec![SPEND.topic(key)],
    invoke: None,
    write_commands: &[],
    disconnected: None,
    follows: &[Follow::new(
        SPEND.kind(),
        Access::Own(PrincipalKind::VirtualKey),
    )],
    upstream: None,
});

pub(crate) const WEBHOOKS_HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/webhooks",
    dotnet_name: "WebhookDeliveryHub",
    admits: &[PrincipalKind::VirtualKey],
    automatic_groups: |_, key| vec![WEBHOOKS.topic(key)],
    invoke: None,
    write_commands: &[],
    disconnected: None,
    follows: &[Follow::new(
        WEBHOOKS.kind(),
        Access::Own(PrincipalKind::VirtualKey),
    )],
    upstream: None,
});

pub(crate) const ADMIN_HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/admin-notifications",
    dotnet_name: "AdminNotificationHub",
    admits: &[PrincipalKind::Master],
    automatic_groups: |_, _| vec![ADMIN.topic()],
    invoke: None,
    write_commands: &[],
    disconnected: None,
    follows: &[Follow::new(
        ADMIN.kind(),
        Access::Anyone(&[PrincipalKind::Master]),
    )],
    upstream: None,
});
