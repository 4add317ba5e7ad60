//! `/hubs/notifications` (CONTRACT §3.3): every connection is in its user's
//! notification group (joined on connect), where `ReceiveNotification` and
//! `RelationshipUpdated` arrive. Virtual keys share the hub for the system
//! notifications only: they have no per-user notifications to fetch.

use pulse_proto::coaching::v1::ListNotificationsRequest;
use serde_json::Value;

use super::{forward_worded, Arguments, Caller, HubError, Services};
use crate::principal::PrincipalKind;

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
    let mut coaching = services.coaching.clone();
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
