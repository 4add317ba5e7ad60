//! Rows as the queries return them, and their conversion into domain values.
//! Kept apart from the domain so `sqlx` stays out of it.

use chrono::{DateTime, Utc};
use pulse_service::StorageError;
use uuid::Uuid;

use crate::domain::{
    ActiveUser, Collaborator, Item, ItemFields, Permission, ShoppingList, UserRef,
};
use crate::ListsError;

/// `sqlx::query_as!` for [`ItemRow`]s: `$with` (a `WITH i AS (...)` writing
/// the items, or `""`), then a `SELECT` of an item's columns from `$from`
/// (`"items i"`, or `"i"` for the `WITH`'s rows) with the display names of
/// the users it refers to, then `$rest` (`WHERE`, `ORDER BY`). A macro
/// because the checked query must be one literal, and the column list and
/// joins are the same for the four queries that read items. Columns read
/// through a `WITH` have no nullability the database can infer, hence the
/// `!` (not null) and `?` (nullable) on each.
macro_rules! query_items {
    ($with:literal, $from:literal, $rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            $crate::store::rows::ItemRow,
            $with
                + r#" SELECT i.id AS "id!", i.list_id AS "list_id!", i.name AS "name!",
                     i.quantity AS "quantity!", i.unit AS "unit?", i.category_id AS "category_id?",
                     i.notes AS "notes?", i.image_url AS "image_url?",
                     i.is_purchased AS "is_purchased!", i.purchased_at AS "purchased_at?",
                     i.purchased_by AS "purchased_by?", pu.display_name AS "purchased_by_name?",
                     i.position AS "position!", i.created_by AS "created_by!",
                     cu.display_name AS "created_by_name!", i.created_at AS "created_at!",
                     i.updated_at AS "updated_at?", i.updated_by AS "updated_by?",
                     uu.display_name AS "updated_by_name?"
                 FROM "#
                + $from
                + " JOIN users cu ON cu.id = i.created_by
                     LEFT JOIN users pu ON pu.id = i.purchased_by
                     LEFT JOIN users uu ON uu.id = i.updated_by "
                + $rest
            $(, $arg)*
        )
    };
}
pub(super) use query_items;

#[derive(Debug)]
pub(super) struct ListRow {
    pub(super) id: Uuid,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) owner_id: Uuid,
    pub(super) is_archived: bool,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: Option<DateTime<Utc>>,
}

/// A [`ShoppingList`] from a row with a list's columns: a [`ListRow`], or
/// the record of a query that reads more beside the list (the caller's
/// permission, the next item position). A macro because those records are
/// types of their own, one per query.
macro_rules! shopping_list {
    ($row:ident) => {
        $crate::domain::ShoppingList {
            id: $row.id,
            name: $row.name,
            description: $row.description,
            owner_id: $row.owner_id,
            is_archived: $row.is_archived,
            created_at: $row.created_at,
            updated_at: $row.updated_at,
        }
    };
}
pub(super) use shopping_list;

impl From<ListRow> for ShoppingList {
    fn from(row: ListRow) -> Self {
        shopping_list!(row)
    }
}

#[derive(Debug)]
pub(super) struct ItemRow {
    pub(super) id: Uuid,
    pub(super) list_id: Uuid,
    pub(super) name: String,
    pub(super) quantity: f64,
    pub(super) unit: Option<String>,
    pub(super) category_id: Option<String>,
    pub(super) notes: Option<String>,
    pub(super) image_url: Option<String>,
    pub(super) is_purchased: bool,
    pub(super) purchased_at: Option<DateTime<Utc>>,
    pub(super) purchased_by: Option<Uuid>,
    pub(super) purchased_by_name: Option<String>,
    pub(super) position: i32,
    pub(super) created_by: Uuid,
    pub(super) created_by_name: String,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: Option<DateTime<Utc>>,
    pub(super) updated_by: Option<Uuid>,
    pub(super) updated_by_name: Option<String>,
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

#[derive(Debug)]
pub(super) struct CollaboratorRow {
    pub(super) user_id: Uuid,
    pub(super) display_name: String,
    pub(super) permission: String,
    pub(super) added_at: DateTime<Utc>,
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

#[derive(Debug)]
pub(super) struct ActiveUserRow {
    pub(super) user_id: Uuid,
    pub(super) display_name: String,
    pub(super) avatar_url: Option<String>,
    pub(super) joined_at: DateTime<Utc>,
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
