//! Hubs: the methods clients invoke, one module per hub. A hub method checks
//! and forwards to the domain service that owns the data (over gRPC), and
//! manages the caller's group memberships through the node; it never touches
//! another hub's state.

mod arguments;
mod caller;
mod error;
mod shopping_list;

use std::sync::Arc;

use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use serde_json::Value;
use tonic::transport::Channel;

use crate::node::Node;

pub use arguments::Arguments;
pub use caller::Caller;
pub use error::{HubError, ACCESS_DENIED};

/// What the hubs call: the node for groups, and the domain services' clients.
#[derive(Debug, Clone)]
pub struct Services {
    pub node: Arc<Node>,
    pub lists: ShoppingListsClient<Channel>,
}

/// The hubs this gateway serves, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubKind {
    ShoppingList,
}

impl HubKind {
    pub const ALL: [HubKind; 1] = [HubKind::ShoppingList];

    pub fn path(self) -> &'static str {
        match self {
            HubKind::ShoppingList => "/hubs/shopping-list",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HubKind::ShoppingList => "shopping-list",
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
        }
    }

    /// Clean-up when a connection ends: leave its groups, end its presence.
    pub async fn disconnected(self, services: &Services, caller: &mut Caller) {
        match self {
            HubKind::ShoppingList => shopping_list::disconnected(services, caller).await,
        }
    }
}

/// A gRPC response as the JSON result of an invocation.
fn result<T: serde::Serialize>(value: &T) -> Result<Option<Value>, HubError> {
    serde_json::to_value(value)
        .map(Some)
        .map_err(|e| HubError::Internal(format!("cannot serialize result: {e}")))
}
