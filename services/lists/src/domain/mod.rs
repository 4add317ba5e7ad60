//! The rules of shopping lists, without I/O: what a valid name, item, patch or
//! permission is, who may do what, and what a change changed. The store calls
//! these inside its transactions; nothing here knows about SQL or protobuf.

mod collaborator;
mod item;
mod list;
mod permission;
mod presence;
mod text;

use uuid::Uuid;

pub use collaborator::{check_permission_change, check_removal, check_share, Collaborator};
pub use item::{Item, ItemFields, ItemPatch, ItemPositions, RawItemFields};
pub use list::{ListChanges, NewList, ShoppingList};
pub use permission::{require, Action, Permission};
pub use presence::{ActiveUser, Connection};
pub use text::required_name;

/// A user as other users see them: `{id, displayName}` in payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub id: Uuid,
    pub display_name: String,
}

/// A list as `GetList` returns it: read in one snapshot, together with the
/// sequence of the last event that snapshot reflects.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSnapshot {
    pub list: ShoppingList,
    pub items: Vec<Item>,
    pub collaborators: Vec<Collaborator>,
    pub sequence: u64,
}
