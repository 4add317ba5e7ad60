//! The shopping-list service (CONTRACT §3.1): lists, items, collaborators and
//! presence behind the `pulse.lists.v1.ShoppingLists` gRPC API.
//!
//! Every change commits together with its event in a transactional outbox;
//! the relay publishes events to group `list_{listId}` on the bus in commit
//! order, numbered 1, 2, 3 ... per list, so gateways can deliver them to
//! SignalR and gRPC subscribers and clients can resume after a `GetList`
//! snapshot without gaps or duplicates.
//!
//! Embed it with [`ListsApp::build`] and [`ListsApp::run_until_stopped`];
//! `pulse lists` (and `pulse suite`, beside the others) in `deploy/pulse`
//! runs it as a process; the library has no binary of its own, so there is
//! one way to start it.

mod config;
mod domain;
mod error;
mod events;
mod grpc;
mod item_queue;
mod presence_queue;
mod startup;
mod store;
mod wire;

pub use config::ListsConfig;
pub use pulse_service::{RunError, StartupError};
pub use startup::{Lists, ListsApp};

pub(crate) use error::{ListsError, ListsRefusal};
