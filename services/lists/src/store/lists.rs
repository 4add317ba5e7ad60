//! Lists themselves: create, read, rename, archive, and the access check.

use chrono::Utc;
use pulse_proto::lists::LIST;
use uuid::Uuid;

use super::rows::{query_items, CollaboratorRow, ListRow};
use super::{access, emit, Store};
use crate::domain::{
    Action, Collaborator, ListChanges, ListSnapshot, NewList, Permission, ShoppingList, UserRef,
};
use crate::{events, ListsError};

impl Store {
    /// Creates a list owned by the caller. No event: nobody can be in the
    /// list's group before it exists.
    pub(crate) async fn create_list(
        &self,
        actor: &UserRef,
        new: NewList,
    ) -> Result<ShoppingList, ListsError> {
        let mut tx = self.outbox.begin().await?;
        let now = Utc::now();
        let row = sqlx::query_as!(
            ListRow,
            "INSERT INTO lists (id, name, description, owner_id, created_at)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id, name, description, owner_id, is_archived, created_at, updated_at",
            Uuid::new_v4(),
            &new.name,
            new.description.as_deref(),
            actor.id,
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let list = ShoppingList::from(row);
        sqlx::query!(
            "INSERT INTO collaborators (list_id, user_id, permission, added_at) VALUES ($1, $2, $3, $4)",
            list.id,
            actor.id,
            Permission::Owner.as_str(),
            list.created_at,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(list)
    }

    /// The list, its items and collaborators, and the sequence of the last
    /// event, all read in one REPEATABLE READ snapshot: the snapshot reflects
    /// exactly the events up to that sequence, so a client resuming live
    /// events after it misses nothing and applies nothing twice.
    pub(crate) async fn get_list(
        &self,
        actor: &UserRef,
        list_id: Uuid,
    ) -> Result<ListSnapshot, ListsError> {
        let mut tx = self.outbox.pool().begin().await?;
        sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let access = access::read(&mut tx, list_id, actor.id).await?;
        access.require(Action::Read)?;
        let items = query_items!(
            "",
            "items i",
            "WHERE i.list_id = $1 ORDER BY i.position, i.created_at, i.id",
            list_id,
        )
        .fetch_all(&mut *tx)
        .await?;
        let collaborators = sqlx::query_as!(
            CollaboratorRow,
            "SELECT c.user_id, u.display_name, c.permission, c.added_at
             FROM collaborators c JOIN users u ON u.id = c.user_id
             WHERE c.list_id = $1 ORDER BY c.added_at, c.user_id",
            list_id,
        )
        .fetch_all(&mut *tx)
        .await?;
        let sequence = pulse_outbox::current_sequence(&mut tx, &LIST.topic(list_id)).await?;
        tx.commit().await?;
        Ok(ListSnapshot {
            list: access.list,
            items: items.into_iter().map(Into::into).collect(),
            collaborators: collaborators
                .into_iter()
                .map(Collaborator::try_from)
                .collect::<Result<_, _>>()?,
            sequence,
        })
    }

    /// Lists the caller owns or collaborates on, newest first.
    pub(crate) async fn list_lists(
        &self,
        actor: &UserRef,
        include_archived: bool,
    ) -> Result<Vec<ShoppingList>, ListsError> {
        let rows = sqlx::query_as!(
            ListRow,
            "SELECT id, name, description, owner_id, is_archived, created_at, updated_at
             FROM lists WHERE id IN
                 (SELECT list_id FROM collaborators WHERE user_id = $1)
               AND ($2 OR NOT is_archived)
             ORDER BY created_at DESC, id",
            actor.id,
            include_archived,
        )
        .fetch_all(self.outbox.pool())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Renames or re-describes (owner only). Emits `ListUpdated` with only the
    /// fields whose value changed; an update that changes nothing emits
    /// nothing and returns the list as it is.
    pub(crate) async fn update_list(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        changes: ListChanges,
    ) -> Result<ShoppingList, ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require(Action::Manage)?;
        let changed = changes.against(&access.list);
        if changed.is_empty() {
            return Ok(access.list);
        }
        let next = changed.apply(&access.list);
        let now = Utc::now();
        let row = sqlx::query_as!(
            ListRow,
            "UPDATE lists SET name = $2, description = $3, updated_at = $4 WHERE id = $1
             RETURNING id, name, description, owner_id, is_archived, created_at, updated_at",
            list_id,
            &next.name,
            next.description.as_deref(),
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        emit(
            &mut tx,
            list_id,
            events::list_updated(list_id, &changed, actor, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Archives (or, with `archived = false`, restores) a list (owner only).
    /// Emits `ListArchived` when the state changes; repeating it is a no-op.
    pub(crate) async fn archive_list(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        archived: bool,
    ) -> Result<ShoppingList, ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require(Action::Manage)?;
        if access.list.is_archived == archived {
            return Ok(access.list);
        }
        let now = Utc::now();
        let row = sqlx::query_as!(
            ListRow,
            "UPDATE lists SET is_archived = $2, updated_at = $3 WHERE id = $1
             RETURNING id, name, description, owner_id, is_archived, created_at, updated_at",
            list_id,
            archived,
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let list = ShoppingList::from(row);
        emit(
            &mut tx,
            list_id,
            events::list_archived(&list, actor, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(list)
    }

    /// The caller's permission: NOT_FOUND for an unknown list,
    /// PERMISSION_DENIED without access.
    pub(crate) async fn check_access(
        &self,
        user_id: Uuid,
        list_id: Uuid,
    ) -> Result<Permission, ListsError> {
        let mut conn = self.outbox.pool().acquire().await?;
        let access = access::read(&mut conn, list_id, user_id).await?;
        access.require(Action::Read)
    }
}
