//! Finding a list and the caller's permission on it.

use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{stored_permission, ListRow, LIST_COLUMNS};
use crate::domain::{require, Action, Permission, ShoppingList};
use crate::ListsError;

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
            return Err(ListsError::Archived);
        }
        Ok(permission)
    }
}

/// Locks the list row for the rest of the transaction and reads the caller's
/// permission. The permission is read by a second statement on purpose: in
/// READ COMMITTED a statement that waited for the lock still sees joined rows
/// as of its start, which could be a permission changed meanwhile.
pub(super) async fn lock(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<ListAccess, ListsError> {
    let sql = format!("SELECT {LIST_COLUMNS} FROM lists WHERE id = $1 FOR NO KEY UPDATE");
    let list = fetch_list(conn, &sql, list_id).await?;
    let permission = permission_of(conn, list_id, user_id).await?;
    Ok(ListAccess { list, permission })
}

/// Reads the list and the caller's permission without locking (queries).
pub(super) async fn read(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<ListAccess, ListsError> {
    let sql = format!("SELECT {LIST_COLUMNS} FROM lists WHERE id = $1");
    let list = fetch_list(conn, &sql, list_id).await?;
    let permission = permission_of(conn, list_id, user_id).await?;
    Ok(ListAccess { list, permission })
}

async fn fetch_list(
    conn: &mut PgConnection,
    sql: &str,
    list_id: Uuid,
) -> Result<ShoppingList, ListsError> {
    let row: Option<ListRow> = sqlx::query_as(sql)
        .bind(list_id)
        .fetch_optional(conn)
        .await?;
    row.map(Into::into)
        .ok_or(ListsError::NotFound("list not found"))
}

pub(super) async fn permission_of(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Permission>, ListsError> {
    let name: Option<String> = sqlx::query_scalar(
        "SELECT permission FROM collaborators WHERE list_id = $1 AND user_id = $2",
    )
    .bind(list_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    name.as_deref().map(stored_permission).transpose()
}
