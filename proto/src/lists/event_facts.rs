//! The shopping-list events' facts: a removed collaborator loses the list.

use super::v1::{
    CollaboratorAdded, CollaboratorPermissionChanged, CollaboratorRemoved, ItemAdded, ItemDeleted,
    ItemPurchasedStatusChanged, ItemUpdated, ItemsReordered, ListArchived, ListUpdated, UserJoined,
    UserLeft,
};
use crate::EventFacts;

impl EventFacts for CollaboratorRemoved {
    fn revoked_member(&self) -> Option<&str> {
        Some(&self.user_id)
    }
}

impl EventFacts for ItemAdded {}
impl EventFacts for ItemUpdated {}
impl EventFacts for ItemDeleted {}
impl EventFacts for ItemPurchasedStatusChanged {}
impl EventFacts for ListUpdated {}
impl EventFacts for ListArchived {}
impl EventFacts for ItemsReordered {}
impl EventFacts for CollaboratorAdded {}
impl EventFacts for CollaboratorPermissionChanged {}
impl EventFacts for UserJoined {}
impl EventFacts for UserLeft {}
