//! How domain values look on the wire: protobuf messages for gRPC responses
//! and for event payloads (one conversion serves both, so an entity in an
//! event is byte-for-byte what `GetList` would return).

use pulse_proto::lists::v1 as proto;
use pulse_service::timestamp;

use crate::domain::{ActiveUser, Collaborator, Item, ListSnapshot, ShoppingList, UserRef};

impl From<&UserRef> for proto::UserRef {
    fn from(user: &UserRef) -> Self {
        Self {
            id: user.id.to_string(),
            display_name: user.display_name.clone(),
        }
    }
}

impl From<&ShoppingList> for proto::ShoppingList {
    fn from(list: &ShoppingList) -> Self {
        Self {
            id: list.id.to_string(),
            name: list.name.clone(),
            description: list.description.clone(),
            owner_id: list.owner_id.to_string(),
            is_archived: list.is_archived,
            created_at: timestamp(list.created_at),
            updated_at: list.updated_at.map(timestamp),
        }
    }
}

impl From<&Item> for proto::Item {
    fn from(item: &Item) -> Self {
        Self {
            id: item.id.to_string(),
            list_id: item.list_id.to_string(),
            name: item.fields.name.clone(),
            quantity: item.fields.quantity,
            unit: item.fields.unit.clone(),
            category_id: item.fields.category_id.clone(),
            notes: item.fields.notes.clone(),
            image_url: item.fields.image_url.clone(),
            is_purchased: item.is_purchased,
            purchased_at: item.purchased_at.map(timestamp),
            purchased_by: item.purchased_by.as_ref().map(Into::into),
            position: item.position,
            created_by: Some((&item.created_by).into()),
            created_at: timestamp(item.created_at),
            updated_at: item.updated_at.map(timestamp),
            updated_by: item.updated_by.as_ref().map(Into::into),
        }
    }
}

impl From<&Collaborator> for proto::Collaborator {
    fn from(collaborator: &Collaborator) -> Self {
        Self {
            user_id: collaborator.user.id.to_string(),
            display_name: collaborator.user.display_name.clone(),
            permission: collaborator.permission.as_str().to_owned(),
            added_at: timestamp(collaborator.added_at),
        }
    }
}

impl From<&ActiveUser> for proto::ActiveUser {
    fn from(user: &ActiveUser) -> Self {
        Self {
            id: user.id.to_string(),
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
            joined_at: timestamp(user.joined_at),
        }
    }
}

impl From<&ListSnapshot> for proto::ListSnapshot {
    fn from(snapshot: &ListSnapshot) -> Self {
        Self {
            list: Some((&snapshot.list).into()),
            items: snapshot.items.iter().map(Into::into).collect(),
            collaborators: snapshot.collaborators.iter().map(Into::into).collect(),
            sequence: snapshot.sequence,
        }
    }
}

/// `ItemPosition` messages for `(item id, position)` pairs.
pub fn item_positions(positions: &[(uuid::Uuid, i32)]) -> Vec<proto::ItemPosition> {
    positions
        .iter()
        .map(|(id, position)| proto::ItemPosition {
            item_id: id.to_string(),
            position: *position,
        })
        .collect()
}
