//! Items: patch, delete, purchase, reorder (adds go in batches:
//! `item_adds`). Each needs Owner or Editor and a list that is not archived.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::query_items;
use super::{access, emit, Store};
use crate::domain::{Item, ItemPatch, ItemPositions, UserRef};
use crate::{events, ListsError};

impl Store {
    /// Applies the fields present in `patch`. Emits `ItemUpdated` naming the
    /// fields whose value changed; a patch that changes nothing returns the
    /// item untouched and emits nothing.
    pub(crate) async fn update_item(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        item_id: Uuid,
        patch: ItemPatch,
    ) -> Result<Item, ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require_editable()?;
        let item = fetch_item(&mut tx, list_id, item_id).await?;
        let (fields, changed) = patch.apply(&item.fields);
        if changed.is_empty() {
            return Ok(item);
        }
        let now = Utc::now();
        let row = query_items!(
            "WITH i AS (
                 UPDATE items SET name = $3, quantity = $4, unit = $5, category_id = $6, notes = $7,
                                  image_url = $8, updated_at = $9, updated_by = $10
                 WHERE id = $1 AND list_id = $2
                 RETURNING *
             )",
            "i",
            "",
            item_id,
            list_id,
            &fields.name,
            fields.quantity,
            fields.unit.as_deref(),
            fields.category_id.as_deref(),
            fields.notes.as_deref(),
            fields.image_url.as_deref(),
            now,
            actor.id,
        )
        .fetch_one(&mut *tx)
        .await?;
        let item = Item::from(row);
        emit(
            &mut tx,
            list_id,
            events::item_updated(&item, &changed, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Deletes an item. Emits `ItemDeleted`; the other items keep their
    /// positions.
    pub(crate) async fn delete_item(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        item_id: Uuid,
    ) -> Result<(), ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require_editable()?;
        let deleted = sqlx::query!(
            "DELETE FROM items WHERE id = $1 AND list_id = $2",
            item_id,
            list_id,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(ListsError::NotFound("item not found"));
        }
        let now = Utc::now();
        emit(
            &mut tx,
            list_id,
            events::item_deleted(list_id, item_id, actor, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks an item purchased (recording by whom and when) or not purchased
    /// (clearing both). Emits `ItemPurchasedStatusChanged` when the status
    /// changes; setting the current status again is a no-op.
    pub(crate) async fn set_item_purchased(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        item_id: Uuid,
        purchased: bool,
    ) -> Result<Item, ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require_editable()?;
        let item = fetch_item(&mut tx, list_id, item_id).await?;
        if item.is_purchased == purchased {
            return Ok(item);
        }
        let now = Utc::now();
        let (at, by): (Option<DateTime<Utc>>, Option<Uuid>) = if purchased {
            (Some(now), Some(actor.id))
        } else {
            (None, None)
        };
        let row = query_items!(
            "WITH i AS (
                 UPDATE items SET is_purchased = $3, purchased_at = $4, purchased_by = $5
                 WHERE id = $1 AND list_id = $2
                 RETURNING *
             )",
            "i",
            "",
            item_id,
            list_id,
            purchased,
            at,
            by,
        )
        .fetch_one(&mut *tx)
        .await?;
        let item = Item::from(row);
        emit(
            &mut tx,
            list_id,
            events::item_purchased_status_changed(&item, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Sets the positions of the given items (others keep theirs). Every item
    /// must belong to the list. Emits `ItemsReordered` with the requested
    /// positions unless none of them differs from what is stored.
    pub(crate) async fn reorder_items(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        positions: ItemPositions,
    ) -> Result<ItemPositions, ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require_editable()?;
        let (ids, wanted): (Vec<Uuid>, Vec<i32>) = positions.as_slice().iter().copied().unzip();
        let changed = sqlx::query_scalar!(
            r#"SELECT COUNT(*) FILTER (WHERE i.position <> w.position) AS "changed!"
             FROM UNNEST($2::uuid[], $3::int4[]) AS w (id, position)
             JOIN items i ON i.id = w.id AND i.list_id = $1
             HAVING COUNT(*) = cardinality($2::uuid[])"#,
            list_id,
            &ids,
            &wanted,
        )
        .fetch_optional(&mut *tx)
        .await?;
        match changed {
            None => return Err(ListsError::NotFound("item not found in this list")),
            Some(0) => return Ok(positions),
            Some(_) => {}
        }
        sqlx::query!(
            "UPDATE items SET position = w.position
             FROM UNNEST($2::uuid[], $3::int4[]) AS w (id, position)
             WHERE items.id = w.id AND items.list_id = $1",
            list_id,
            &ids,
            &wanted,
        )
        .execute(&mut *tx)
        .await?;
        let now = Utc::now();
        emit(
            &mut tx,
            list_id,
            events::items_reordered(list_id, &positions, actor, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(positions)
    }
}

async fn fetch_item(
    conn: &mut PgConnection,
    list_id: Uuid,
    item_id: Uuid,
) -> Result<Item, ListsError> {
    let row = query_items!(
        "",
        "items i",
        "WHERE i.id = $1 AND i.list_id = $2",
        item_id,
        list_id,
    )
    .fetch_optional(conn)
    .await?;
    row.map(Into::into)
        .ok_or(ListsError::NotFound("item not found"))
}
