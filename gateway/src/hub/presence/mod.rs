//! Presence on a list and participation in a Lean Coffee session: one
//! mechanism for both hubs, with one rule for each step.
//!
//! - Counting: a user's connections to one scope on this gateway are one
//!   presence at the owning service (a "stay", see [`stays`]): the first
//!   connection enters it, later ones are counted in, the last one out exits
//!   it. A crowd of tabs costs the service one presence per user.
//! - Joining: the caller is authorized for the group first (the same check as
//!   any group), then joins it (so nothing after entering is missed), then
//!   enters at the owning service; a refusal at any step leaves the caller
//!   outside. Joiners of one stay that arrive together share one access
//!   check and one enter (see [`turns`]), each made after they asked.
//! - Keep-alive: the gateway, not the client, confirms every stay it holds,
//!   once per interval, from one task for the whole gateway. An open
//!   connection is present (SignalR's own keep-alive closes dead ones); a
//!   gateway that died stops confirming and the service's sweeper ends its
//!   stays. A client's `UpdatePresence` confirms the same way.
//! - Leaving: the group is left at once; the exit of a stay whose last
//!   connection left is handed to a bounded background queue with retries,
//!   so a mass disconnect never floods the channel to the service nor loses
//!   exits to cancelled connection tasks.

mod desk;
mod stays;
mod turns;

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use futures::{FutureExt, StreamExt};
use pulse_bus::Topic;
use pulse_proto::leancoffee::v1::lean_coffee_client::LeanCoffeeClient;
use pulse_proto::lists::v1::{shopping_lists_client::ShoppingListsClient, ActiveUser};
use pulse_proto::{leancoffee::SESSION, lists::LIST};
use tokio::{
    sync::Semaphore,
    time::{Instant, MissedTickBehavior},
};
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};
use uuid::Uuid;

use self::{
    desk::{is_transient, Desk},
    stays::{Held, Stays},
    turns::Turns,
};
use super::{
    access::{access_error, authorize, Requester},
    lean_session::LEAN_COFFEE,
    shopping_list::LISTS,
    Caller, Channels, HubError, OnBehalf, Services, Undeclared, ACCESS_DENIED,
};

/// Calls to the services for exits and keep-alives in flight at once: a mass
/// disconnect queues here instead of opening thousands of streams at once.
const IN_FLIGHT: usize = 32;
/// Attempts of an exit before it is left to the service's sweeper.
const EXIT_ATTEMPTS: u32 = 4;
/// Enters a joiner makes when the stay it entered through keeps ending
/// before it is counted in (its other connections all left meanwhile).
const ENTER_ATTEMPTS: usize = 3;

/// Where one can be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    List(Uuid),
    Session(Uuid),
}

impl Scope {
    fn topic(self) -> Topic {
        match self {
            Scope::List(id) => LIST.topic(id),
            Scope::Session(id) => SESSION.topic(id),
        }
    }

    fn of(topic: Topic) -> Option<Self> {
        let id = topic.id()?;
        if topic.kind() == LIST.kind() {
            Some(Scope::List(id))
        } else if topic.kind() == SESSION.kind() {
            Some(Scope::Session(id))
        } else {
            None
        }
    }
}

/// An enter's outcome, shared by the joiners of one stay.
type Entered = Result<Vec<ActiveUser>, Status>;
/// An access check's outcome, shared by the joiners of one group with one token.
type Checked = Result<(), HubError>;

/// This gateway's stays and the calls that keep the owning services informed.
pub struct Presence {
    desk: Desk,
    stays: Mutex<Stays>,
    /// Enters, per stay key.
    enters: Arc<Turns<Arc<str>, Entered>>,
    /// Access checks, per group and credentials.
    checks: Arc<Turns<(Topic, OnBehalf), Checked>>,
    calls: Arc<Semaphore>,
    /// Wait before the first retry of an exit; doubled for each further one.
    retry_delay: Duration,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (stays, connections) = self.stays().len();
        f.debug_struct("Presence")
            .field("stays", &stays)
            .field("connections", &connections)
            .finish_non_exhaustive()
    }
}

impl Presence {
    /// Starts the gateway's keep-alive, which confirms every stay each
    /// `keep_alive` until `shutdown`; a failed exit is retried after
    /// `retry_delay`, then twice as long each time.
    pub fn start(
        channels: &Channels,
        keep_alive: Duration,
        retry_delay: Duration,
        shutdown: CancellationToken,
    ) -> Result<Arc<Self>, Undeclared> {
        let presence = Arc::new(Self {
            desk: Desk {
                lists: ShoppingListsClient::new(channels.get(&LISTS)?),
                lean_coffee: LeanCoffeeClient::new(channels.get(&LEAN_COFFEE)?),
            },
            stays: Mutex::default(),
            enters: Arc::default(),
            checks: Arc::default(),
            calls: Arc::new(Semaphore::new(IN_FLIGHT)),
            retry_delay,
        });
        tokio::spawn(presence.clone().keep_alive(keep_alive, shutdown));
        Ok(presence)
    }

    fn stays(&self) -> MutexGuard<'_, Stays> {
        self.stays.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_entering(&self, key: &str) -> bool {
        self.enters.is_busy(&Arc::from(key))
    }

    /// The joiner's access check, shared with the joiners of the same group
    /// with the same credentials that ask while one runs.
    async fn authorize(
        &self,
        services: &Services,
        requester: Requester,
        credentials: &OnBehalf,
        topic: Topic,
    ) -> Checked {
        let services = services.clone();
        let on_behalf = credentials.clone();
        let check =
            move || async move { authorize(&services, requester, &on_behalf, topic).await }.boxed();
        self.checks
            .share((topic, credentials.clone()), check)
            .await
            .unwrap_or_else(|| Err(HubError::Internal("access check ended early".into())))
    }

    /// Enters the user's stay (or a new one) and counts the connection in.
    async fn enter(
        &self,
        scope: Scope,
        user: Uuid,
        connection: &Arc<str>,
        credentials: &OnBehalf,
    ) -> Entered {
        for _ in 0..ENTER_ATTEMPTS {
            let held = self.stays().stay_for(scope, user, credentials.clone());
            let desk = self.desk.clone();
            let call = held.clone();
            let entered = self
                .enters
                .share(held.key.clone(), move || {
                    async move { desk.enter(&call).await }.boxed()
                })
                .await
                .unwrap_or_else(|| Err(Status::internal("presence enter ended early")));
            let mut stays = self.stays();
            match entered {
                Ok(active) if stays.arrive(&held, connection) => return Ok(active),
                // The stay ended meanwhile: enter a new one.
                Ok(_) => {}
                Err(status) => {
                    stays.abandon(&held, |key| self.is_entering(key));
                    return Err(status);
                }
            }
        }
        Err(Status::unavailable("presence kept ending while entering"))
    }

    async fn keep_alive(self: Arc<Self>, period: Duration, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let (held, ended) = self.stays().round(|key| self.is_entering(key));
            for stay in ended {
                self.exit(stay);
            }
            let confirm = futures::stream::iter(held).for_each_concurrent(IN_FLIGHT, |stay| {
                let presence = &self;
                async move { presence.confirm(&stay).await }
            });
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = confirm => {}
            }
        }
    }

    /// One keep-alive. A stay the service swept meanwhile (it was
    /// unreachable for a while) enters again, unless it ended during the
    /// call; one the service refuses (its user lost access, its list is
    /// gone) ends.
    async fn confirm(&self, held: &Held) {
        if !self.stays().is_current(held) {
            return;
        }
        match self.desk.refresh(held).await {
            Ok(()) => {}
            Err(status) if matches!(status.code(), Code::NotFound | Code::PermissionDenied) => {
                tracing::debug!(scope = ?held.scope, user_id = %held.user, %status, "presence refused; ended");
                self.stays().refused(held);
                return;
            }
            Err(status) => {
                tracing::warn!(scope = ?held.scope, %status, "presence keep-alive failed; retrying at the next one");
                return;
            }
        }
        if !self.stays().is_current(held) {
            self.exit(held.clone());
        }
    }

    /// Hands the exit to the background queue: bounded, retried on transient
    /// failures, left to the service's sweeper if it keeps failing.
    fn exit(&self, held: Held) {
        let desk = self.desk.clone();
        let calls = self.calls.clone();
        let mut delay = self.retry_delay;
        tokio::spawn(async move {
            let Ok(_permit) = calls.acquire_owned().await else {
                return;
            };
            for attempt in 1..=EXIT_ATTEMPTS {
                match desk.exit(&held).await {
                    Ok(()) => return,
                    Err(status) if attempt < EXIT_ATTEMPTS && is_transient(&status) => {
                        tokio::time::sleep(delay).await;
                        delay = delay.saturating_mul(2);
                    }
                    Err(status) => {
                        tracing::warn!(scope = ?held.scope, %status, "presence exit failed; the sweeper will end it");
                        return;
                    }
                }
            }
        });
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
    let presence = &services.presence;
    presence
        .authorize(services, Requester::of(caller), &credentials, topic)
        .await?;
    let was_joined = caller.joined.contains(&topic);
    super::join_group(services, caller, topic).await?;
    let user = caller.identity.user_id;
    match presence
        .enter(scope, user, &caller.connection_id, &credentials)
        .await
    {
        Ok(active) => {
            caller.joined.insert(topic);
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

/// Leaves the group at once; the service hears of it from the background
/// when this was the user's last connection here.
pub(super) fn leave(services: &Services, caller: &mut Caller, scope: Scope) {
    let topic = scope.topic();
    services.node.leave(&topic, &caller.connection_id);
    if caller.joined.remove(&topic) {
        let presence = &services.presence;
        let user = caller.identity.user_id;
        let ended = presence
            .stays()
            .depart(scope, user, &caller.connection_id, |key| {
                presence.is_entering(key)
            });
        if let Some(held) = ended {
            presence.exit(held);
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
    let denied = || HubError::Denied(ACCESS_DENIED.into());
    if !services
        .node
        .is_member(&scope.topic(), &caller.connection_id)
    {
        return Err(denied());
    }
    let presence = &services.presence;
    let held = presence
        .stays()
        .of(scope, caller.identity.user_id, &caller.connection_id)
        .ok_or_else(denied)?;
    presence.desk.refresh(&held).await.map_err(access_error)
}

/// Ends the presence of every list or session the connection was in.
pub(super) fn disconnected(services: &Services, caller: &mut Caller) {
    let scopes: Vec<Scope> = caller.joined.iter().filter_map(|t| Scope::of(*t)).collect();
    for scope in scopes {
        leave(services, caller, scope);
    }
}
