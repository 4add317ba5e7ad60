//! Finding a list and the caller's permission on it.

use pulse_outbox::{Outbox, OutboxTransaction};
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{shopping_list, stored_permission};
use crate::domain::{require, Action, Permission, ShoppingList};
use crate::{ListsError, ListsRefusal};

/// A list and what the caller may do with it (`None`: no access).
#[derive(Debug, Clone)]
pub(super) struct ListAccess {
    pub list: ShoppingList,
    pub permission: Option<Permission>,
}

impl ListAccess {
    /// The caller's permission if it allows `action`.
    pub fn require(&self, action: Action) -> Result<Permission, ListsError> {
        require(self.permission, action)
    }

    /// Like [`ListAccess::require`] for item changes, which an archived list
    /// also refuses.
    pub fn require_editable(&self) -> Result<Permission, ListsError> {
        let permission = self.require(Action::EditItems)?;
        if self.list.is_archived {
            return Err(ListsError::Own(ListsRefusal::Archived));
        }
        Ok(permission)
    }
}

/// Begins a command's transaction holding the list row's lock, and reads
/// the list and the caller's permission: two round trips. The read runs after
/// the lock was granted, on a snapshot of its own, so it sees a permission
/// changed by a command it waited for; a statement that both waited and read
/// would see joined rows as of its start.
pub(super) async fn begin_locked(
    outbox: &Outbox,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<(OutboxTransaction, ListAccess), ListsError> {
    let mut tx = begin_locking(outbox, &[list_id]).await?;
    let access = read(&mut tx, list_id, user_id).await?;
    Ok((tx, access))
}

/// Begins a transaction holding the locks of the lists' rows, taken in the
/// order of their ids (so two transactions locking some of the same lists
/// never wait for each other in a circle), in one round trip: the statement
/// that begins the transaction takes them. That is a simple query, which
/// takes no parameters, so the ids go in as literals (a `Uuid` prints only
/// hex digits and dashes). Unchecked for that reason: the query macros
/// describe only prepared statements.
pub(super) async fn begin_locking(
    outbox: &Outbox,
    list_ids: &[Uuid],
) -> Result<OutboxTransaction, ListsError> {
    let ids = list_ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(outbox
        .begin_with(format!(
            "BEGIN; SELECT FROM lists WHERE id IN ({ids}) ORDER BY id FOR NO KEY UPDATE"
        ))
        .await?)
}

/// Reads the list and the caller's permission, in one statement.
pub(super) async fn read(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<ListAccess, ListsError> {
    let row = sqlx::query!(
        r#"SELECT id, name, description, owner_id, is_archived, created_at, updated_at,
                (SELECT permission FROM collaborators WHERE list_id = $1 AND user_id = $2)
                    AS "permission?"
         FROM lists WHERE id = $1"#,
        list_id,
        user_id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(ListsError::NotFound("list not found"))?;
    let list = shopping_list!(row);
    ListAccess::stored(list, row.permission.as_deref())
}

impl ListAccess {
    /// A list row and the caller's permission column as read.
    pub fn stored(list: ShoppingList, permission: Option<&str>) -> Result<Self, ListsError> {
        Ok(Self {
            permission: permission.map(stored_permission).transpose()?,
            list,
        })
    }
}

pub(super) async fn permission_of(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Permission>, ListsError> {
    let name = sqlx::query_scalar!(
        "SELECT permission FROM collaborators WHERE list_id = $1 AND user_id = $2",
        list_id,
        user_id,
    )
    .fetch_optional(conn)
    .await?;
    name.as_deref().map(stored_permission).transpose()
}
