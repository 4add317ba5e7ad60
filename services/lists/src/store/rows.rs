//! Rows as the queries return them, and their conversion into domain values.
//! Kept apart from the domain so `sqlx` stays out of it.

use chrono::{DateTime, Utc};
use pulse_service::StorageError;
use uuid::Uuid;

use crate::domain::{
    ActiveUser, Collaborator, Item, ItemFields, Permission, ShoppingList, UserRef,
};
use crate::ListsError;

/// The columns of a list, for `SELECT` and `RETURNING`.
pub(super) const LIST_COLUMNS: &str =
    "id, name, description, owner_id, is_archived, created_at, updated_at";

/// The columns of an item (table alias `i`) with the display names of the
/// users it refers to; use with [`ITEM_JOINS`].
pub(super) const ITEM_COLUMNS: &str =
    "i.id, i.list_id, i.name, i.quantity, i.unit, i.category_id, \
     i.notes, i.image_url, i.is_purchased, i.purchased_at, i.purchased_by, \
     pu.display_name AS purchased_by_name, i.position, i.created_by, \
     cu.display_name AS created_by_name, i.created_at, i.updated_at, i.updated_by, \
     uu.display_name AS updated_by_name";

pub(super) const ITEM_JOINS: &str = "JOIN users cu ON cu.id = i.created_by \
     LEFT JOIN users pu ON pu.id = i.purchased_by \
     LEFT JOIN users uu ON uu.id = i.updated_by";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ListRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    owner_id: Uuid,
    is_archived: bool,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
}

impl From<ListRow> for ShoppingList {
    fn from(row: ListRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            description: row.description,
            owner_id: row.owner_id,
            is_archived: row.is_archived,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ItemRow {
    id: Uuid,
    list_id: Uuid,
    name: String,
    quantity: f64,
    unit: Option<String>,
    category_id: Option<String>,
    notes: Option<String>,
    image_url: Option<String>,
    is_purchased: bool,
    purchased_at: Option<DateTime<Utc>>,
    purchased_by: Option<Uuid>,
    purchased_by_name: Option<String>,
    position: i32,
    created_by: Uuid,
    created_by_name: String,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
    updated_by: Option<Uuid>,
    updated_by_name: Option<String>,
}

fn user_ref(id: Option<Uuid>, name: Option<String>) -> Option<UserRef> {
    id.map(|id| UserRef {
        id,
        display_name: name.unwrap_or_default(),
    })
}

impl From<ItemRow> for Item {
    fn from(row: ItemRow) -> Self {
        Self {
            id: row.id,
            list_id: row.list_id,
            fields: ItemFields {
                name: row.name,
                quantity: row.quantity,
                unit: row.unit,
                category_id: row.category_id,
                notes: row.notes,
                image_url: row.image_url,
            },
            is_purchased: row.is_purchased,
            purchased_at: row.purchased_at,
            purchased_by: user_ref(row.purchased_by, row.purchased_by_name),
            position: row.position,
            created_by: UserRef {
                id: row.created_by,
                display_name: row.created_by_name,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
            updated_by: user_ref(row.updated_by, row.updated_by_name),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct CollaboratorRow {
    user_id: Uuid,
    display_name: String,
    permission: String,
    added_at: DateTime<Utc>,
}

impl TryFrom<CollaboratorRow> for Collaborator {
    type Error = ListsError;

    fn try_from(row: CollaboratorRow) -> Result<Self, ListsError> {
        Ok(Self {
            user: UserRef {
                id: row.user_id,
                display_name: row.display_name,
            },
            permission: stored_permission(&row.permission)?,
            added_at: row.added_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ActiveUserRow {
    user_id: Uuid,
    display_name: String,
    avatar_url: Option<String>,
    joined_at: DateTime<Utc>,
}

impl From<ActiveUserRow> for ActiveUser {
    fn from(row: ActiveUserRow) -> Self {
        Self {
            id: row.user_id,
            display_name: row.display_name,
            avatar_url: row.avatar_url,
            joined_at: row.joined_at,
        }
    }
}

/// A permission column, which must be known.
pub(super) fn stored_permission(name: &str) -> Result<Permission, ListsError> {
    Permission::from_stored(name)
        .ok_or_else(|| StorageError::unknown_stored("permission", name).into())
}
