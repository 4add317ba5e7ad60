//! The owning services' presence calls, per scope: the lists service for a
//! list, the Lean Coffee service for a session. Each names the presence by
//! its stay's key (see `stays`), which the services store as a connection.

use pulse_proto::leancoffee::v1::{lean_coffee_client::LeanCoffeeClient, ParticipationRequest};
use pulse_proto::lists::v1::{
    shopping_lists_client::ShoppingListsClient, ActiveUser, PresenceRequest,
};
use tonic::{transport::Channel, Code, Status};
use uuid::Uuid;

use super::{stays::Held, Scope};

#[derive(Debug, Clone)]
pub(super) struct Desk {
    pub lists: ShoppingListsClient<Channel>,
    pub lean_coffee: LeanCoffeeClient<Channel>,
}

impl Desk {
    /// Records the presence (again, if it was) and returns the active users
    /// a list's joiner is told about (none for a session).
    pub(super) async fn enter(&self, held: &Held) -> Result<Vec<ActiveUser>, Status> {
        match held.scope {
            Scope::List(list_id) => {
                let request = held.credentials.request(on_list(list_id, &held.key));
                let snapshot = self.lists.clone().enter_list(request).await?;
                Ok(snapshot.into_inner().active_users)
            }
            Scope::Session(session_id) => {
                let request = held.credentials.request(in_session(session_id, &held.key));
                self.lean_coffee.clone().enter_session(request).await?;
                Ok(Vec::new())
            }
        }
    }

    /// Confirms the presence; one the service no longer has enters again.
    pub(super) async fn refresh(&self, held: &Held) -> Result<(), Status> {
        let touched = match held.scope {
            Scope::List(list_id) => {
                let request = held.credentials.request(on_list(list_id, &held.key));
                self.lists.clone().touch_presence(request).await.map(|_| ())
            }
            Scope::Session(session_id) => {
                let request = held.credentials.request(in_session(session_id, &held.key));
                self.lean_coffee
                    .clone()
                    .touch_session(request)
                    .await
                    .map(|_| ())
            }
        };
        match touched {
            Err(status) if status.code() == Code::NotFound => self.enter(held).await.map(|_| ()),
            touched => touched,
        }
    }

    pub(super) async fn exit(&self, held: &Held) -> Result<(), Status> {
        match held.scope {
            Scope::List(list_id) => {
                let request = held.credentials.request(on_list(list_id, &held.key));
                self.lists.clone().exit_list(request).await.map(|_| ())
            }
            Scope::Session(session_id) => {
                let request = held.credentials.request(in_session(session_id, &held.key));
                self.lean_coffee
                    .clone()
                    .exit_session(request)
                    .await
                    .map(|_| ())
            }
        }
    }
}

/// Failures worth another try: the service or the channel was momentarily
/// unavailable or overloaded.
pub(super) fn is_transient(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable
        | Code::Cancelled
        | Code::Unknown
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Internal => true,
        Code::Ok
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::DataLoss
        | Code::Unauthenticated => false,
    }
}

fn on_list(list_id: Uuid, key: &str) -> PresenceRequest {
    PresenceRequest {
        list_id: list_id.to_string(),
        connection_id: key.to_owned(),
        avatar_url: None,
    }
}

fn in_session(session_id: Uuid, key: &str) -> ParticipationRequest {
    ParticipationRequest {
        session_id: session_id.to_string(),
        connection_id: key.to_owned(),
    }
}
