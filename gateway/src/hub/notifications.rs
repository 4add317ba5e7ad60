//! `/hubs/notifications` (CONTRACT §3.3): every connection is in its user's
//! notification group (joined on connect), where `ReceiveNotification` and
//! `RelationshipUpdated` arrive. Virtual keys share the hub for the system
//! notifications only: they have no per-user notifications to fetch.

use pulse_bus::Topic;
use pulse_proto::coaching::v1::{coaching_client::CoachingClient, ListNotificationsRequest};
use pulse_proto::{coaching::NOTIFICATIONS, tasks::SYSTEM};
use serde_json::Value;
use uuid::Uuid;

use super::{
    access::{Access, Follow},
    chat::COACHING,
    forward_worded, Arguments, Caller, HubError, HubKind, HubSpec, Services,
};
use crate::principal::PrincipalKind;

/// Per-user notifications for users, system notifications for users and
/// virtual keys: Mizan's and Conduit's hubs share this path.
pub(crate) const HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/notifications",
    dotnet_name: "SystemNotificationHub",
    admits: &[PrincipalKind::User, PrincipalKind::VirtualKey],
    automatic_groups,
    invoke: Some(|services, caller, target, args| Box::pin(invoke(services, caller, target, args))),
    write_commands: &[],
    disconnected: None,
    follows: &[
        Follow::new(NOTIFICATIONS.kind(), Access::Own(PrincipalKind::User)),
        Follow::new(
            SYSTEM.kind(),
            Access::Anyone(&[PrincipalKind::User, PrincipalKind::VirtualKey]),
        ),
    ],
    upstream: Some(&COACHING),
});

/// A user's own notifications and the system-wide ones; a virtual key, the
/// system-wide ones only.
fn automatic_groups(kind: PrincipalKind, id: Uuid) -> Vec<Topic> {
    match kind {
        PrincipalKind::User => vec![NOTIFICATIONS.topic(id), SYSTEM.topic()],
        PrincipalKind::VirtualKey | PrincipalKind::Master => vec![SYSTEM.topic()],
    }
}

/// What a virtual key calling `GetNotifications` is told. A method the caller may not use fails
/// the invocation only: the coaching service would refuse the key as a credential, which must not
/// read as a revocation that closes the connection for good.
const USERS_ONLY: &str =
    "GetNotifications is for signed-in users; a virtual key receives system notifications only";

pub(super) async fn invoke(
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let mut coaching = CoachingClient::new(services.channels.get(&COACHING)?);
    match target.to_ascii_lowercase().as_str() {
        "getnotifications" if caller.kind != PrincipalKind::User => {
            Err(HubError::Denied(USERS_ONLY.into()))
        }
        "getnotifications" => {
            args.expect(1)?;
            let request = ListNotificationsRequest {
                limit: args.object(0, "limit")?,
            };
            forward_worded(coaching.list_notifications(caller.request(request))).await
        }
        _ => Err(HubError::UnknownMethod),
    }
}
