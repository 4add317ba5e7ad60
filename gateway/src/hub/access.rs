//! Who may follow a group. Hub joins and gRPC subscriptions ask the same
//! question the same way, so a client cannot see through one door what the
//! other refuses.

use pulse_bus::Topic;
use pulse_proto::{
    leancoffee::v1::GetSessionRequest, lists::v1::CheckAccessRequest, tasks::v1::GetTaskRequest,
};
use tonic::Code;
use uuid::Uuid;

use super::{Caller, HubError, OnBehalf, Services, ACCESS_DENIED};
use crate::principal::PrincipalKind;

/// Who asks to follow a group: the credential's id and kind.
#[derive(Debug, Clone, Copy)]
pub struct Requester {
    pub id: Uuid,
    pub kind: PrincipalKind,
}

impl Requester {
    pub fn of(caller: &Caller) -> Self {
        Self {
            id: caller.identity.user_id,
            kind: caller.kind,
        }
    }
}

/// Succeeds when the requester (on whose behalf `on_behalf` asks the owning
/// service) may receive the group's events: users their lists, sessions and
/// own user groups; virtual keys their own tasks and media requests and
/// their own key groups; everyone but the master key the system
/// notifications; only the master key the admin group.
pub async fn authorize(
    services: &Services,
    requester: Requester,
    on_behalf: &OnBehalf,
    topic: Topic,
) -> Result<(), HubError> {
    let (user, key) = (
        requester.kind == PrincipalKind::User,
        requester.kind == PrincipalKind::VirtualKey,
    );
    let allowed = match topic {
        Topic::List(list_id) if user => {
            let request = on_behalf.request(CheckAccessRequest {
                list_id: list_id.to_string(),
            });
            let checked = services.lists.clone().check_access(request).await;
            checked
                .map(|_| ())
                .map_err(|s| topic_access_error(s, topic))?;
            true
        }
        Topic::Session(session_id) if user => {
            let request = on_behalf.request(GetSessionRequest {
                session_id: session_id.to_string(),
            });
            let checked = services.lean_coffee.clone().get_session(request).await;
            checked
                .map(|_| ())
                .map_err(|s| topic_access_error(s, topic))?;
            true
        }
        Topic::Video(id) | Topic::Image(id) | Topic::Task(id) if key => {
            let request = on_behalf.request(GetTaskRequest {
                task_id: id.to_string(),
            });
            let task = services.tasks.clone().get_task(request).await;
            let task = task.map_err(|s| topic_access_error(s, topic))?.into_inner();
            Some(task.kind.as_str()) == task_kind(topic)
        }
        Topic::Chat(owner) | Topic::Goals(owner) | Topic::Notifications(owner) => {
            user && owner == requester.id
        }
        Topic::Spend(owner) | Topic::Webhooks(owner) | Topic::Navigation(owner) => {
            key && owner == requester.id
        }
        Topic::System => user || key,
        Topic::Admin => requester.kind == PrincipalKind::Master,
        Topic::List(_)
        | Topic::Session(_)
        | Topic::Video(_)
        | Topic::Image(_)
        | Topic::Task(_)
        | Topic::KeyRevocations => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(HubError::Denied(denial(topic).into()))
    }
}

/// The task kind a media or task group follows.
fn task_kind(topic: Topic) -> Option<&'static str> {
    match topic {
        Topic::Video(_) => Some("Video"),
        Topic::Image(_) => Some("Image"),
        Topic::Task(_) => Some("Task"),
        _ => None,
    }
}

/// The refusal text, per CONTRACT §3.4 for task groups.
pub(super) fn denial(topic: Topic) -> &'static str {
    match topic {
        Topic::Video(_) => "Access denied to video generation request",
        Topic::Image(_) => "Access denied to image generation request",
        Topic::Task(_) => "Access denied to task",
        _ => ACCESS_DENIED,
    }
}

/// A refusal of the owning service while checking access to `topic`.
fn topic_access_error(status: tonic::Status, topic: Topic) -> HubError {
    match status.code() {
        Code::NotFound | Code::PermissionDenied => HubError::Denied(denial(topic).into()),
        _ => HubError::from(status),
    }
}

/// Unknown and forbidden groups read the same: outsiders learn nothing about
/// what exists.
pub fn access_error(status: tonic::Status) -> HubError {
    match status.code() {
        Code::NotFound | Code::PermissionDenied => HubError::Denied(ACCESS_DENIED.into()),
        _ => HubError::from(status),
    }
}
