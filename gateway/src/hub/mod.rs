//! Hubs: the methods clients invoke, one module per hub. A hub method checks
//! and forwards to the domain service that owns the data (over gRPC), and
//! manages the caller's group memberships through the node; it never touches
//! another hub's state.

mod access;
mod arguments;
mod caller;
mod error;
mod lean_session;
mod shopping_list;

use std::{sync::Arc, time::Duration};

use pulse_proto::leancoffee::v1::lean_coffee_client::LeanCoffeeClient;
use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use serde_json::Value;
use tonic::transport::Channel;

use crate::node::Node;

pub use access::authorize;
pub use arguments::Arguments;
pub use caller::{Caller, OnBehalf};
pub use error::{HubError, ACCESS_DENIED};

/// What the hubs call: the node for groups, and the domain services' clients.
#[derive(Debug, Clone)]
pub struct Services {
    pub node: Arc<Node>,
    pub lists: ShoppingListsClient<Channel>,
    pub lean_coffee: LeanCoffeeClient<Channel>,
    /// How often a Lean Coffee connection's participation is confirmed to
    /// the service, which sweeps connections it stops hearing about.
    pub participant_heartbeat: Duration,
}

/// The hubs this gateway serves, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubKind {
    ShoppingList,
    LeanSession,
}

impl HubKind {
    pub const ALL: [HubKind; 2] = [HubKind::ShoppingList, HubKind::LeanSession];

    pub fn path(self) -> &'static str {
        match self {
            HubKind::ShoppingList => "/hubs/shopping-list",
            HubKind::LeanSession => "/hubs/lean-session",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HubKind::ShoppingList => "shopping-list",
            HubKind::LeanSession => "lean-session",
        }
    }

    /// Runs a method; `Ok(None)` is a void result. Method names are matched
    /// case-insensitively, as ASP.NET Core does.
    pub async fn invoke(
        self,
        services: &Services,
        caller: &mut Caller,
        target: &str,
        arguments: Arguments,
    ) -> Result<Option<Value>, HubError> {
        match self {
            HubKind::ShoppingList => {
                shopping_list::invoke(services, caller, target, arguments).await
            }
            HubKind::LeanSession => lean_session::invoke(services, caller, target, arguments).await,
        }
    }

    /// Clean-up when a connection ends: leave its groups, end its presence.
    pub async fn disconnected(self, services: &Services, caller: &mut Caller) {
        match self {
            HubKind::ShoppingList => shopping_list::disconnected(services, caller).await,
            HubKind::LeanSession => lean_session::disconnected(services, caller).await,
        }
    }
}

/// A gRPC response as the JSON result of an invocation.
fn result<T: serde::Serialize>(value: &T) -> Result<Option<Value>, HubError> {
    serde_json::to_value(value)
        .map(Some)
        .map_err(|e| HubError::Internal(format!("cannot serialize result: {e}")))
}
