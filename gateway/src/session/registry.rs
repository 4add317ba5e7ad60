//! Connections by their secret token, from negotiate to their end.
//!
//! Negotiate creates an entry; the first transport request carrying `id=<token>` binds it to that
//! transport and starts the connection. Later requests find it here: long polls and POSTs, a
//! stateful WebSocket replacing a dropped one. Each refusal is the status code ASP.NET Core
//! answers. The reaper removes negotiations no transport took and connections no transport has
//! served for the disconnect timeout (a long-polling client that stopped polling, a stateful
//! WebSocket that never came back).
//!
//! It also bounds what clients can make the gateway hold before any of it is used: connections
//! per user and per virtual key (negotiate and connect over it answer 429), and negotiations no
//! transport took yet, by count and by the bytes sent for them (503 with `Retry-After`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use bytes::{Bytes, BytesMut};
use tokio::sync::Notify;
use tokio_util::sync::DropGuard;
use uuid::Uuid;

use super::Link;
use crate::{
    hub::HubKind,
    principal::{Principal, PrincipalKind},
    protocol::{ConnectionIds, Issuer, NegotiateVersion, TransportType},
};

/// What clients may make the registry hold.
#[derive(Debug, Clone, Copy)]
pub struct RegistryLimits {
    /// Connections (negotiated or running) of one user.
    pub connections_per_user: usize,
    /// Connections of one virtual key, or of the master key.
    pub connections_per_key: usize,
    /// Negotiated connections no transport has taken yet, all together.
    pub pending_connections: usize,
    /// Bytes sent for those before their transport came, all together.
    pub pending_bytes: usize,
}

impl Default for RegistryLimits {
    fn default() -> Self {
        Self {
            connections_per_user: 100,
            connections_per_key: 1000,
            pending_connections: 10_000,
            pending_bytes: 16 * 1024 * 1024,
        }
    }
}

impl RegistryLimits {
    fn connections_of(&self, kind: PrincipalKind) -> usize {
        match kind {
            PrincipalKind::User => self.connections_per_user,
            PrincipalKind::VirtualKey | PrincipalKind::Master => self.connections_per_key,
        }
    }
}

#[derive(Debug)]
enum State {
    Negotiated {
        at: Instant,
        /// Sends that arrived before the first transport request (some clients POST their
        /// handshake before their first long poll; .NET buffers them too). Fed to the connection
        /// when it starts.
        early: BytesMut,
    },
    Attached {
        transport: TransportType,
        link: Link,
    },
}

#[derive(Debug)]
struct Entry {
    connection_id: Arc<str>,
    hub: HubKind,
    user_id: Uuid,
    /// Negotiate agreed on stateful reconnect (used only if the transport is a WebSocket).
    stateful: bool,
    state: State,
    /// Ends what serves this connection to other gateways when the entry goes.
    forwarding: Option<DropGuard>,
}

/// How a transport request relates to its connection.
#[derive(Debug)]
pub enum Attachment {
    /// The first transport request: the connection was started.
    Started(Link),
    /// Another long poll of a long-polling connection.
    Poll(Link),
    /// A WebSocket replacing a dropped one of a stateful connection.
    Reattach(Link),
}

/// Why a request cannot open or use a connection; each maps to the status .NET answers (or, for
/// the gateway's own limits, the standard one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    /// Unknown, ended or reaped token, another hub, or another user: 404.
    #[error("No Connection with that ID")]
    NotFound,
    /// The connection runs on another transport: 400.
    #[error("Cannot change transports mid-connection")]
    OtherTransport,
    /// A WebSocket or event stream is already attached: 409.
    #[error("Connection is already active")]
    AlreadyActive,
    /// Sends before the connection started exceed what is held for it: 413.
    #[error("Too much data before the connection started")]
    TooEarly,
    /// The user or key already holds as many connections as allowed: 429.
    #[error("Too many connections for this user or key; close one first")]
    TooManyConnections,
    /// Too many connections are negotiated and not started, or too much is held for them: 503
    /// with `Retry-After`.
    #[error("Too many connections are starting; retry shortly")]
    Busy,
    /// The gateway is shutting down and takes no new connection (its readiness says so too):
    /// 503, for the client to reconnect through the load balancer to another gateway.
    #[error("This gateway is shutting down; connect again")]
    Draining,
}

/// Where a POST for a connection goes.
#[derive(Debug)]
pub enum Found {
    /// A running connection on this transport.
    Running(TransportType, Link),
    /// Negotiated, no transport request yet: the body is held until one comes.
    NotStarted,
}

/// A negotiated connection handed over by the gateway that negotiated it to the one its first
/// transport request reached (see [`Registry::claim`] and [`Registry::adopt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub connection_id: Arc<str>,
    pub stateful: bool,
    /// Sends held for it (see `State::Negotiated`).
    pub early: Bytes,
}

/// Why a connection cannot be claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefused {
    /// Unknown here, or of another hub or user.
    NotFound,
    /// A transport request started it already (here or, after a claim, elsewhere).
    Started,
}

/// What starting a connection needs from the registry.
#[derive(Debug, Clone)]
pub struct Starting {
    pub connection_id: Arc<str>,
    pub token: String,
    /// Stateful reconnect negotiated and the transport is a WebSocket.
    pub stateful: bool,
    /// What the client sent before (see `State::Negotiated`), to be fed in first.
    pub early: Bytes,
}

/// The entries and what they add up to, kept together so the counts cannot drift.
#[derive(Debug, Default)]
struct Table {
    entries: HashMap<String, Entry>,
    /// Entries per user or key.
    per_owner: HashMap<Uuid, usize>,
    /// Entries not started yet, and the bytes held for them.
    pending: usize,
    pending_bytes: usize,
    /// Told when the last started connection's entry goes (see
    /// [`Registry::until_no_connection`]).
    emptied: Arc<Notify>,
}

impl Table {
    fn insert(&mut self, token: String, entry: Entry) {
        *self.per_owner.entry(entry.user_id).or_default() += 1;
        if let State::Negotiated { early, .. } = &entry.state {
            self.pending += 1;
            self.pending_bytes += early.len();
        }
        if let Some(replaced) = self.entries.insert(token, entry) {
            self.forget(&replaced);
        }
    }

    fn remove(&mut self, token: &str) {
        if let Some(entry) = self.entries.remove(token) {
            self.forget(&entry);
            if self.entries.len() == self.pending {
                self.emptied.notify_waiters();
            }
        }
    }

    /// Takes a removed entry out of the counts.
    fn forget(&mut self, entry: &Entry) {
        if let Some(count) = self.per_owner.get_mut(&entry.user_id) {
            *count -= 1;
            if *count == 0 {
                self.per_owner.remove(&entry.user_id);
            }
        }
        if let State::Negotiated { early, .. } = &entry.state {
            self.pending -= 1;
            self.pending_bytes -= early.len();
        }
    }

    /// Refuses a new connection of `principal` over the per-owner limit.
    fn admit(&self, principal: &Principal, limits: &RegistryLimits) -> Result<(), AttachError> {
        let held = self.per_owner.get(&principal.id()).copied().unwrap_or(0);
        if held >= limits.connections_of(principal.kind) {
            return Err(AttachError::TooManyConnections);
        }
        Ok(())
    }
}

/// The entry of `token`, if it is a connection of `hub` and `user_id`: a token is no use to
/// anyone else.
fn entry_of<'a>(
    entries: &'a mut HashMap<String, Entry>,
    token: &str,
    hub: HubKind,
    user_id: Uuid,
) -> Option<&'a mut Entry> {
    entries
        .get_mut(token)
        .filter(|e| e.hub == hub && e.user_id == user_id)
}

#[derive(Debug, Default)]
pub struct Registry {
    table: Mutex<Table>,
    limits: RegistryLimits,
    /// Starts every token this registry issues.
    issuer: Issuer,
}

impl Registry {
    pub fn new(limits: RegistryLimits) -> Self {
        Self {
            table: Mutex::default(),
            limits,
            issuer: Issuer::default(),
        }
    }

    /// The tag this registry's tokens start with.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection of `principal`, not started until its first transport request. Refused
    /// when the principal holds as many connections as allowed, or when too many negotiations
    /// (or bytes held for them) wait for their transport.
    pub fn negotiate(
        &self,
        hub: HubKind,
        principal: &Principal,
        version: NegotiateVersion,
        stateful: bool,
    ) -> Result<ConnectionIds, AttachError> {
        let mut table = self.table();
        table.admit(principal, &self.limits)?;
        if table.pending >= self.limits.pending_connections
            || table.pending_bytes >= self.limits.pending_bytes
        {
            return Err(AttachError::Busy);
        }
        let ids = ConnectionIds::generate(version, &self.issuer);
        table.insert(
            ids.token.clone(),
            Entry {
                connection_id: Arc::from(ids.id.as_str()),
                hub,
                user_id: principal.id(),
                stateful,
                state: State::Negotiated {
                    at: Instant::now(),
                    early: BytesMut::new(),
                },
                forwarding: None,
            },
        );
        Ok(ids)
    }

    /// Finds the connection for a transport request (`GET {hub}?id=`) and, the first time,
    /// starts it with `start` (called under the registry lock, so two racing requests cannot both
    /// start it).
    pub fn attach(
        &self,
        token: &str,
        hub: HubKind,
        user_id: Uuid,
        transport: TransportType,
        start: impl FnOnce(Starting) -> Link,
    ) -> Result<Attachment, AttachError> {
        let mut table = self.table();
        let table = &mut *table;
        let entry =
            entry_of(&mut table.entries, token, hub, user_id).ok_or(AttachError::NotFound)?;
        match &mut entry.state {
            State::Negotiated { early, .. } => {
                table.pending -= 1;
                table.pending_bytes -= early.len();
                let link = start(Starting {
                    connection_id: entry.connection_id.clone(),
                    token: token.to_owned(),
                    stateful: entry.stateful && transport == TransportType::WebSockets,
                    early: early.split().freeze(),
                });
                entry.state = State::Attached {
                    transport,
                    link: link.clone(),
                };
                Ok(Attachment::Started(link))
            }
            State::Attached {
                transport: bound,
                link,
            } => match transport {
                _ if *bound != transport && link.is_ended() => Err(AttachError::NotFound),
                _ if *bound != transport => Err(AttachError::OtherTransport),
                // An ended long-polling connection still hands its last frames (its Close) to
                // the next poll, which then answers 204.
                TransportType::LongPolling => Ok(Attachment::Poll(link.clone())),
                _ if link.is_ended() => Err(AttachError::NotFound),
                TransportType::WebSockets if link.is_stateful() => {
                    Ok(Attachment::Reattach(link.clone()))
                }
                TransportType::WebSockets | TransportType::ServerSentEvents => {
                    Err(AttachError::AlreadyActive)
                }
            },
        }
    }

    /// A WebSocket that skipped negotiation: a new connection, started at once (under the
    /// registry lock, so racing requests cannot pass the per-owner limit together).
    pub fn start_unnegotiated(
        &self,
        hub: HubKind,
        principal: &Principal,
        start: impl FnOnce(Starting) -> Link,
    ) -> Result<Link, AttachError> {
        let mut table = self.table();
        table.admit(principal, &self.limits)?;
        let ids = ConnectionIds::generate(NegotiateVersion::V1, &self.issuer);
        let connection_id: Arc<str> = Arc::from(ids.id.as_str());
        let link = start(Starting {
            connection_id: connection_id.clone(),
            token: ids.token.clone(),
            stateful: false,
            early: Bytes::new(),
        });
        table.insert(
            ids.token,
            Entry {
                connection_id,
                hub,
                user_id: principal.id(),
                stateful: false,
                state: State::Attached {
                    transport: TransportType::WebSockets,
                    link: link.clone(),
                },
                forwarding: None,
            },
        );
        Ok(link)
    }

    /// Hands a negotiated connection no transport took yet to another gateway: the entry goes
    /// from here, and what that gateway needs to start it is returned. `handed_over` runs under
    /// the registry's lock just before the entry goes, so what it records is seen by anyone
    /// who then finds the entry gone.
    pub fn claim(
        &self,
        token: &str,
        hub: HubKind,
        user_id: Uuid,
        handed_over: impl FnOnce(),
    ) -> Result<Claimed, ClaimRefused> {
        let mut table = self.table();
        let entry =
            entry_of(&mut table.entries, token, hub, user_id).ok_or(ClaimRefused::NotFound)?;
        let State::Negotiated { early, .. } = &entry.state else {
            return Err(ClaimRefused::Started);
        };
        let claimed = Claimed {
            connection_id: entry.connection_id.clone(),
            stateful: entry.stateful,
            early: Bytes::copy_from_slice(early),
        };
        handed_over();
        table.remove(token);
        Ok(claimed)
    }

    /// Starts here a connection claimed from the gateway that negotiated it, for its first
    /// transport request (which reached this gateway). Held to this gateway's per-owner limit.
    pub fn adopt(
        &self,
        token: &str,
        hub: HubKind,
        principal: &Principal,
        claimed: Claimed,
        transport: TransportType,
        start: impl FnOnce(Starting) -> Link,
    ) -> Result<Link, AttachError> {
        let mut table = self.table();
        table.admit(principal, &self.limits)?;
        let stateful = claimed.stateful && transport == TransportType::WebSockets;
        let link = start(Starting {
            connection_id: claimed.connection_id.clone(),
            token: token.to_owned(),
            stateful,
            early: claimed.early,
        });
        table.insert(
            token.to_owned(),
            Entry {
                connection_id: claimed.connection_id,
                hub,
                user_id: principal.id(),
                stateful,
                state: State::Attached {
                    transport,
                    link: link.clone(),
                },
                forwarding: None,
            },
        );
        Ok(link)
    }

    /// Keeps `guard` until the connection's entry goes (at once if it is gone already), so
    /// what serves the connection to other gateways lives exactly as long as it can be found.
    pub fn keep_until_removed(&self, token: &str, guard: DropGuard) {
        if let Some(entry) = self.table().entries.get_mut(token) {
            entry.forwarding = Some(guard);
        }
    }

    /// The connection a POST or DELETE addresses.
    pub fn find(&self, token: &str, hub: HubKind, user_id: Uuid) -> Result<Found, AttachError> {
        match entry_of(&mut self.table().entries, token, hub, user_id).map(|e| &e.state) {
            Some(State::Attached { transport, link }) if !link.is_ended() => {
                Ok(Found::Running(*transport, link.clone()))
            }
            Some(State::Negotiated { .. }) => Ok(Found::NotStarted),
            Some(State::Attached { .. }) | None => Err(AttachError::NotFound),
        }
    }

    /// The long-polling connection a poll asked another gateway for addresses: running, or
    /// ended with its last frames still to take. Never starts one.
    pub fn long_poll(&self, token: &str, hub: HubKind, user_id: Uuid) -> Result<Link, AttachError> {
        match entry_of(&mut self.table().entries, token, hub, user_id).map(|e| &e.state) {
            Some(State::Attached {
                transport: TransportType::LongPolling,
                link,
            }) => Ok(link.clone()),
            Some(State::Attached { link, .. }) if !link.is_ended() => {
                Err(AttachError::OtherTransport)
            }
            Some(_) | None => Err(AttachError::NotFound),
        }
    }

    /// Holds a send that arrived before the first transport request, up to `limit` bytes for the
    /// connection (and the configured pending bytes for all of them). If the connection started
    /// meanwhile, its link is returned to take the data instead.
    pub fn hold(
        &self,
        token: &str,
        hub: HubKind,
        user_id: Uuid,
        data: &[u8],
        limit: usize,
    ) -> Result<Option<Link>, AttachError> {
        let mut table = self.table();
        let table = &mut *table;
        let entry =
            entry_of(&mut table.entries, token, hub, user_id).ok_or(AttachError::NotFound)?;
        match &mut entry.state {
            State::Negotiated { early, .. } if early.len() + data.len() > limit => {
                Err(AttachError::TooEarly)
            }
            State::Negotiated { .. }
                if table.pending_bytes.saturating_add(data.len()) > self.limits.pending_bytes =>
            {
                Err(AttachError::Busy)
            }
            State::Negotiated { early, .. } => {
                early.extend_from_slice(data);
                table.pending_bytes += data.len();
                Ok(None)
            }
            State::Attached { link, .. } if link.is_ended() => Err(AttachError::NotFound),
            State::Attached { link, .. } => Ok(Some(link.clone())),
        }
    }

    pub fn remove(&self, token: &str) {
        self.table().remove(token);
    }

    /// Drops negotiations no transport took within `timeout`, and ends connections no transport
    /// has served for that long. Returns how many entries went.
    pub fn reap(&self, timeout: Duration) -> usize {
        let mut table = self.table();
        let expired: Vec<String> = table
            .entries
            .iter()
            .filter(|(_, entry)| match &entry.state {
                State::Negotiated { at, .. } => at.elapsed() >= timeout,
                State::Attached { link, .. } => {
                    let idle = link.idle_for().is_some_and(|idle| idle >= timeout);
                    if idle {
                        link.terminate();
                    }
                    idle
                }
            })
            .map(|(token, _)| token.clone())
            .collect();
        for token in &expired {
            table.remove(token);
        }
        expired.len()
    }

    /// Returns once no started connection is left: every one over, long-polling ones included
    /// once their last poll took their end (their Close) or the reaper removed them.
    /// Negotiations no transport took are not waited for.
    pub async fn until_no_connection(&self) {
        loop {
            let emptied = self.table().emptied.clone();
            // Registered before the check, so a removal in between is not missed.
            let notified = emptied.notified();
            {
                let table = self.table();
                if table.entries.len() == table.pending {
                    return;
                }
            }
            notified.await;
        }
    }

    /// Connections negotiated and not yet over. An entry goes once its connection's task has
    /// finished (a long-polling one when its last poll took the end), so zero means no
    /// connection is left running.
    pub fn len(&self) -> usize {
        self.table().entries.len()
    }

    /// Connections running now, counted per hub and transport (pairs with none are left out).
    /// Negotiations no transport took yet have no transport and are not counted; neither is an
    /// ended long-polling connection whose last poll is still to come. Walks the table under its
    /// lock: meant for a scrape every few seconds, not for every request.
    pub fn open_connections(&self) -> Vec<(HubKind, TransportType, usize)> {
        let mut counts: Vec<(HubKind, TransportType, usize)> = Vec::new();
        for entry in self.table().entries.values() {
            let State::Attached { transport, link } = &entry.state else {
                continue;
            };
            if link.is_ended() {
                continue;
            }
            match counts
                .iter_mut()
                .find(|(hub, bound, _)| *hub == entry.hub && bound == transport)
            {
                Some((_, _, count)) => *count += 1,
                None => counts.push((entry.hub, *transport, 1)),
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests;

/// What `open_connections` counts (the other registry tests are in `registry/tests.rs`).
#[cfg(test)]
mod open_connection_tests {
    use pulse_auth::Identity;

    use super::*;
    use crate::hub::{chat, shopping_list};

    #[test]
    fn running_connections_are_counted_per_hub_and_transport() {
        let registry = Registry::default();
        let ann = Principal {
            identity: Identity {
                user_id: Uuid::new_v4(),
                name: "Ann".into(),
                roles: vec![],
                expires_at: i64::MAX,
            },
            kind: PrincipalKind::User,
        };
        let start = |hub, transport| {
            let token = registry
                .negotiate(hub, &ann, NegotiateVersion::V1, false)
                .expect("negotiated")
                .token;
            registry
                .attach(&token, hub, ann.identity.user_id, transport, |s| {
                    Link::unconnected(s.stateful)
                })
                .expect("starts");
            token
        };
        let first = start(shopping_list::HUB, TransportType::WebSockets);
        start(shopping_list::HUB, TransportType::WebSockets);
        start(chat::HUB, TransportType::LongPolling);
        // Negotiated only: no transport yet, not counted.
        registry
            .negotiate(chat::HUB, &ann, NegotiateVersion::V1, false)
            .expect("negotiated");

        let mut open = registry.open_connections();
        open.sort_by_key(|(hub, _, _)| hub.name());
        assert_eq!(
            open,
            [
                (chat::HUB, TransportType::LongPolling, 1),
                (shopping_list::HUB, TransportType::WebSockets, 2),
            ]
        );
        registry.remove(&first);
        assert_eq!(
            registry
                .open_connections()
                .iter()
                .map(|c| c.2)
                .sum::<usize>(),
            2
        );
    }
}
