//! Who may follow a group. Hub joins and gRPC subscriptions ask the same
//! question the same way, so a client cannot see through one door what the
//! other refuses.

use pulse_bus::Topic;
use pulse_proto::{leancoffee::v1::GetSessionRequest, lists::v1::CheckAccessRequest};
use tonic::Code;

use super::{HubError, OnBehalf, Services, ACCESS_DENIED};

/// Succeeds when the credential's user may receive the group's events:
/// a list they own or collaborate on, a session that exists.
pub async fn authorize(
    services: &Services,
    on_behalf: &OnBehalf,
    topic: Topic,
) -> Result<(), HubError> {
    let outcome = match topic {
        Topic::List(list_id) => services
            .lists
            .clone()
            .check_access(on_behalf.request(CheckAccessRequest {
                list_id: list_id.to_string(),
            }))
            .await
            .map(|_| ()),
        Topic::Session(session_id) => services
            .lean_coffee
            .clone()
            .get_session(on_behalf.request(GetSessionRequest {
                session_id: session_id.to_string(),
            }))
            .await
            .map(|_| ()),
    };
    outcome.map_err(access_error)
}

/// Unknown and forbidden groups read the same: outsiders learn nothing about
/// what exists.
pub fn access_error(status: tonic::Status) -> HubError {
    match status.code() {
        Code::NotFound | Code::PermissionDenied => HubError::Refused(ACCESS_DENIED.into()),
        _ => HubError::from(status),
    }
}
