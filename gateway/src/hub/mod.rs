//! Hubs: the methods clients invoke, one module per hub. A hub method checks
//! and forwards to the domain service that owns the data (over gRPC), and
//! manages the caller's group memberships through the node; it never touches
//! another hub's state. Each hub module declares its hub as a [`HubSpec`]
//! (path, credentials, automatic groups, methods, access rules, the domain
//! service it calls); [`HUBS`] lists them. A new hub adds its module and
//! one entry in that list, both here, and nothing else in the gateway.

mod access;
mod arguments;
mod caller;
mod catch_up;
pub(crate) mod chat;
pub(crate) mod deliveries;
mod error;
pub(crate) mod goals;
mod kind;
pub(crate) mod lean_session;
mod matrix;
pub(crate) mod navigation;
pub(crate) mod notifications;
mod presence;
mod rate_limit;
pub(crate) mod shopping_list;
mod spec;
pub(crate) mod task_groups;
mod upstream;

use std::sync::Arc;

use pulse_bus::Topic;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    node::{Node, Revocations},
    principal::{Principal, PrincipalKind},
};

pub use access::{authorize, Requester};
pub use arguments::Arguments;
pub use caller::{Caller, OnBehalf};
pub use error::{HubError, ACCESS_DENIED};
pub use kind::HubKind;
pub use matrix::render_markdown as event_matrix_markdown;
pub use presence::Presence;
pub use rate_limit::{RateLimitConfig, RateLimits};
pub use spec::HubSpec;
pub use task_groups::TASKS;
pub use upstream::{upstreams, Channels, Undeclared, Upstream};

/// Every hub, in the order the router and the metrics list them
/// ([`HubKind::ALL`]).
const HUBS: [HubKind; 12] = [
    shopping_list::HUB,
    lean_session::HUB,
    chat::HUB,
    goals::HUB,
    notifications::HUB,
    task_groups::VIDEO_HUB,
    task_groups::IMAGE_HUB,
    task_groups::TASK_HUB,
    deliveries::SPEND_HUB,
    deliveries::WEBHOOKS_HUB,
    deliveries::ADMIN_HUB,
    navigation::HUB,
];

/// What the hubs call: the node for groups, and the domain services.
#[derive(Debug, Clone)]
pub struct Services {
    pub node: Arc<Node>,
    /// A channel to each domain service a hub names (see [`Upstream`]).
    pub channels: Channels,
    /// Virtual keys revoked while their connections are open.
    pub revocations: Arc<Revocations>,
    /// Presence on lists and participation in sessions, kept alive by this
    /// gateway (see [`Presence`]).
    pub presence: Arc<Presence>,
    /// Invocations per connection, and write commands per user or key.
    pub rate_limits: Arc<RateLimits>,
    /// Groups one connection may be in at once: each one is a broker consumer.
    pub max_groups_per_connection: usize,
}

impl Services {
    /// Cancelled when the principal's credential is revoked: virtual keys
    /// can be; JWTs end by expiring and the master key by reconfiguration.
    ///
    /// `None` for the others: every connection holds what this returns for its whole life, and a
    /// token that can never fire would cost each of them a heap block for nothing.
    pub fn revoked(&self, principal: &Principal) -> Option<CancellationToken> {
        match principal.kind {
            PrincipalKind::VirtualKey => Some(self.revocations.watch(principal.id())),
            PrincipalKind::User | PrincipalKind::Master => None,
        }
    }
}

/// Completes once `revoked` (from [`Services::revoked`]) is cancelled; never without a token.
pub async fn until_revoked(revoked: Option<&CancellationToken>) {
    match revoked {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

/// Puts the caller's connection in `topic`'s group (live on the bus when this returns). Refused,
/// changing nothing, when the connection is already in as many groups as allowed and not in this
/// one.
async fn join_group(services: &Services, caller: &Caller, topic: Topic) -> Result<(), HubError> {
    let limit = services.max_groups_per_connection;
    if !caller.joined.contains(&topic) && caller.joined.len() >= limit {
        return Err(HubError::Refused(format!(
            "Too many groups on this connection (at most {limit}); leave one first."
        )));
    }
    services
        .node
        .join(topic, caller.member())
        .await
        .map_err(|e| HubError::Unavailable(e.to_string()))
}

/// For services whose refusals are worded for users (coaching): a
/// permission refusal shows the service's own text, which the contract
/// fixes per method ("Not authorized to assign goals to this client"),
/// instead of the generic "Access denied".
fn worded_refusal(status: tonic::Status) -> HubError {
    match status.code() {
        tonic::Code::PermissionDenied => HubError::Denied(status.message().to_owned()),
        _ => HubError::from(status),
    }
}

/// Forwards a command or query to a domain service: its reply is the
/// invocation's result, its refusal the invocation's error.
async fn forward<T: serde::Serialize>(
    call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<Option<Value>, HubError> {
    result(&call.await?.into_inner())
}

/// [`forward`] for services whose refusals are worded for users (see
/// [`worded_refusal`]).
async fn forward_worded<T: serde::Serialize>(
    call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<Option<Value>, HubError> {
    result(&call.await.map_err(worded_refusal)?.into_inner())
}

/// A gRPC response as the JSON result of an invocation.
fn result<T: serde::Serialize>(value: &T) -> Result<Option<Value>, HubError> {
    serde_json::to_value(value)
        .map(Some)
        .map_err(|e| HubError::Internal(format!("cannot serialize result: {e}")))
}
