//! `/hubs/notifications` (CONTRACT §3.3): every connection is in its user's
//! notification group (joined on connect), where `ReceiveNotification` and
//! `RelationshipUpdated` arrive.

use pulse_proto::coaching::v1::ListNotificationsRequest;
use serde_json::Value;

use super::{forward_worded, Arguments, Caller, HubError, Services};

pub(super) async fn invoke(
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let mut coaching = services.coaching.clone();
    match target.to_ascii_lowercase().as_str() {
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
