//! Presence on a list and participation in a Lean Coffee session: one
//! mechanism for both hubs, with one rule for each step.
//!
//! - Joining: the caller is authorized for the group first (the same check as
//!   any group), then joins it (so nothing after entering is missed), then
//!   enters at the owning service; a refusal at any step leaves the caller
//!   outside.
//! - Keep-alive: the gateway, not the client, confirms every connection it
//!   holds, once per interval, from one task for the whole gateway. An open
//!   connection is present (SignalR's own keep-alive closes dead ones); a
//!   gateway that died stops confirming and the service's sweeper ends its
//!   connections. A client's `UpdatePresence` confirms the same way.
//! - Leaving: the group is left at once; the exit call is handed to a
//!   bounded background queue with retries, so a mass disconnect never floods
//!   the channel to the service nor loses exits to cancelled connection tasks.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use futures::StreamExt;
use pulse_bus::Topic;
use pulse_proto::leancoffee::v1::{lean_coffee_client::LeanCoffeeClient, ParticipationRequest};
use pulse_proto::lists::v1::{
    shopping_lists_client::ShoppingListsClient, ActiveUser, PresenceRequest,
};
use tokio::{
    sync::Semaphore,
    time::{Instant, MissedTickBehavior},
};
use tokio_util::sync::CancellationToken;
use tonic::{transport::Channel, Code, Status};
use uuid::Uuid;

use super::{
    access::{access_error, authorize, Requester},
    Caller, HubError, OnBehalf, Services, ACCESS_DENIED,
};

/// Calls to the services for exits and keep-alives in flight at once: a mass
/// disconnect queues here instead of opening thousands of streams at once.
const IN_FLIGHT: usize = 32;
/// Attempts of an exit before it is left to the service's sweeper.
const EXIT_ATTEMPTS: u32 = 4;
/// Wait before the first retry of an exit; doubled for each further one.
const RETRY_DELAY: Duration = Duration::from_millis(100);

/// Where one can be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    List(Uuid),
    Session(Uuid),
}

impl Scope {
    fn topic(self) -> Topic {
        match self {
            Scope::List(id) => Topic::List(id),
            Scope::Session(id) => Topic::Session(id),
        }
    }

    fn of(topic: Topic) -> Option<Self> {
        match topic {
            Topic::List(id) => Some(Scope::List(id)),
            Topic::Session(id) => Some(Scope::Session(id)),
            _ => None,
        }
    }
}

/// This gateway's present connections and the calls that keep the owning
/// services informed.
pub struct Presence {
    desk: Desk,
    /// Every connection this gateway holds present, with the credentials the
    /// keep-alive and the exit are sent with.
    present: Mutex<HashMap<(Scope, Arc<str>), OnBehalf>>,
    calls: Arc<Semaphore>,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence")
            .field("present", &self.present().len())
            .finish_non_exhaustive()
    }
}

impl Presence {
    /// Starts the gateway's keep-alive, which confirms every present
    /// connection each `keep_alive` until `shutdown`.
    pub fn start(
        lists: ShoppingListsClient<Channel>,
        lean_coffee: LeanCoffeeClient<Channel>,
        keep_alive: Duration,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        let presence = Arc::new(Self {
            desk: Desk { lists, lean_coffee },
            present: Mutex::default(),
            calls: Arc::new(Semaphore::new(IN_FLIGHT)),
        });
        tokio::spawn(presence.clone().keep_alive(keep_alive, shutdown));
        presence
    }

    fn present(&self) -> MutexGuard<'_, HashMap<(Scope, Arc<str>), OnBehalf>> {
        self.present.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_present(&self, scope: Scope, connection_id: &Arc<str>) -> bool {
        self.present().contains_key(&(scope, connection_id.clone()))
    }

    async fn keep_alive(self: Arc<Self>, period: Duration, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let entries: Vec<((Scope, Arc<str>), OnBehalf)> = self
                .present()
                .iter()
                .map(|(key, credentials)| (key.clone(), credentials.clone()))
                .collect();
            let confirm = futures::stream::iter(entries).for_each_concurrent(
                IN_FLIGHT,
                |((scope, connection_id), credentials)| {
                    let presence = &self;
                    async move { presence.confirm(scope, &connection_id, &credentials).await }
                },
            );
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = confirm => {}
            }
        }
    }

    /// One keep-alive. A connection the service swept meanwhile (it was
    /// unreachable for a while) enters again, unless it left during the call.
    async fn confirm(&self, scope: Scope, connection_id: &Arc<str>, credentials: &OnBehalf) {
        if !self.is_present(scope, connection_id) {
            return;
        }
        if let Err(status) = self.desk.refresh(scope, connection_id, credentials).await {
            tracing::warn!(?scope, %status, "presence keep-alive failed; retrying at the next one");
            return;
        }
        if !self.is_present(scope, connection_id) {
            self.exit(scope, connection_id.clone(), credentials.clone());
        }
    }

    /// Hands the exit to the background queue: bounded, retried on transient
    /// failures, left to the service's sweeper if it keeps failing.
    fn exit(&self, scope: Scope, connection_id: Arc<str>, credentials: OnBehalf) {
        let desk = self.desk.clone();
        let calls = self.calls.clone();
        tokio::spawn(async move {
            let Ok(_permit) = calls.acquire_owned().await else {
                return;
            };
            let mut delay = RETRY_DELAY;
            for attempt in 1..=EXIT_ATTEMPTS {
                match desk.exit(scope, &connection_id, &credentials).await {
                    Ok(()) => return,
                    Err(status) if attempt < EXIT_ATTEMPTS && is_transient(&status) => {
                        tokio::time::sleep(delay).await;
                        delay = delay.saturating_mul(2);
                    }
                    Err(status) => {
                        tracing::warn!(?scope, %status, "presence exit failed; the sweeper will end it");
                        return;
                    }
                }
            }
        });
    }
}

/// Failures worth another try: the service or the channel was momentarily
/// unavailable or overloaded.
fn is_transient(status: &Status) -> bool {
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

/// Joins the caller to the scope's group and enters them at the service;
/// returns the active users a list's joiner is told about (none for a
/// session).
pub(super) async fn join(
    services: &Services,
    caller: &mut Caller,
    scope: Scope,
) -> Result<Vec<ActiveUser>, HubError> {
    let topic = scope.topic();
    let credentials = caller.on_behalf();
    authorize(services, Requester::of(caller), &credentials, topic).await?;
    let was_joined = caller.joined.contains(&topic);
    super::join_group(services, caller, topic).await?;
    let presence = &services.presence;
    match presence
        .desk
        .enter(scope, &caller.connection_id, &credentials)
        .await
    {
        Ok(active) => {
            caller.joined.insert(topic);
            presence
                .present()
                .insert((scope, caller.connection_id.clone()), credentials);
            Ok(active)
        }
        Err(status) => {
            if !was_joined {
                services.node.leave(&topic, &caller.connection_id);
            }
            Err(access_error(status))
        }
    }
}

/// Leaves the group at once; the service hears of it from the background.
pub(super) fn leave(services: &Services, caller: &mut Caller, scope: Scope) {
    let topic = scope.topic();
    services.node.leave(&topic, &caller.connection_id);
    if caller.joined.remove(&topic) {
        let presence = &services.presence;
        let key = (scope, caller.connection_id.clone());
        let credentials = presence.present().remove(&key);
        if let Some(credentials) = credentials {
            presence.exit(scope, key.1, credentials);
        }
    }
}

/// A client's confirmation (`UpdatePresence`): only for a connection in the
/// group, and re-entering if the service had swept it.
pub(super) async fn confirm(
    services: &Services,
    caller: &Caller,
    scope: Scope,
) -> Result<(), HubError> {
    if !services
        .node
        .is_member(&scope.topic(), &caller.connection_id)
    {
        return Err(HubError::Denied(ACCESS_DENIED.into()));
    }
    services
        .presence
        .desk
        .refresh(scope, &caller.connection_id, &caller.on_behalf())
        .await
        .map_err(access_error)
}

/// Ends the presence of every list or session the connection was in.
pub(super) fn disconnected(services: &Services, caller: &mut Caller) {
    let scopes: Vec<Scope> = caller.joined.iter().filter_map(|t| Scope::of(*t)).collect();
    for scope in scopes {
        leave(services, caller, scope);
    }
}

/// The owning services' presence calls, per scope.
#[derive(Debug, Clone)]
struct Desk {
    lists: ShoppingListsClient<Channel>,
    lean_coffee: LeanCoffeeClient<Channel>,
}

impl Desk {
    async fn enter(
        &self,
        scope: Scope,
        connection_id: &str,
        credentials: &OnBehalf,
    ) -> Result<Vec<ActiveUser>, Status> {
        match scope {
            Scope::List(list_id) => {
                let request = credentials.request(on_list(list_id, connection_id));
                let snapshot = self.lists.clone().enter_list(request).await?;
                Ok(snapshot.into_inner().active_users)
            }
            Scope::Session(session_id) => {
                let request = credentials.request(in_session(session_id, connection_id));
                self.lean_coffee.clone().enter_session(request).await?;
                Ok(Vec::new())
            }
        }
    }

    /// Confirms the connection; one the service no longer has enters again.
    async fn refresh(
        &self,
        scope: Scope,
        connection_id: &str,
        credentials: &OnBehalf,
    ) -> Result<(), Status> {
        let touched = match scope {
            Scope::List(list_id) => {
                let request = credentials.request(on_list(list_id, connection_id));
                self.lists.clone().touch_presence(request).await.map(|_| ())
            }
            Scope::Session(session_id) => {
                let request = credentials.request(in_session(session_id, connection_id));
                self.lean_coffee
                    .clone()
                    .touch_session(request)
                    .await
                    .map(|_| ())
            }
        };
        match touched {
            Err(status) if status.code() == Code::NotFound => self
                .enter(scope, connection_id, credentials)
                .await
                .map(|_| ()),
            touched => touched,
        }
    }

    async fn exit(
        &self,
        scope: Scope,
        connection_id: &str,
        credentials: &OnBehalf,
    ) -> Result<(), Status> {
        match scope {
            Scope::List(list_id) => {
                let request = credentials.request(on_list(list_id, connection_id));
                self.lists.clone().exit_list(request).await.map(|_| ())
            }
            Scope::Session(session_id) => {
                let request = credentials.request(in_session(session_id, connection_id));
                self.lean_coffee
                    .clone()
                    .exit_session(request)
                    .await
                    .map(|_| ())
            }
        }
    }
}

fn on_list(list_id: Uuid, connection_id: &str) -> PresenceRequest {
    PresenceRequest {
        list_id: list_id.to_string(),
        connection_id: connection_id.to_owned(),
        avatar_url: None,
    }
}

fn in_session(session_id: Uuid, connection_id: &str) -> ParticipationRequest {
    ParticipationRequest {
        session_id: session_id.to_string(),
        connection_id: connection_id.to_owned(),
    }
}
