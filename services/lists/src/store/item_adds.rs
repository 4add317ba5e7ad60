//! `AddItem`s in batches: the adds that arrive while a batch is in the
//! database go together in the next one (see `crate::item_queue`), one
//! transaction, one set of locks and one commit for all of them instead of
//! one each. Under load, most adds land on lists other commands are writing
//! too; a batch turns their queue on the list row's lock into one statement.
//!
//! A batch is the same transaction a lone add would run, for many: lock the
//! lists (in id order), read each caller's permission and each list's next
//! position, then insert every permitted item and enqueue every event in one
//! statement. A caller without the right gets their own error and adds
//! nothing; the others go on.

use std::collections::HashMap;

use chrono::{SubsecRound, Utc};
use pulse_batch::Batch;
use pulse_outbox::{AppendedRow, Enqueued};
use pulse_proto::lists::LIST;
use uuid::Uuid;

use super::access::{self, ListAccess};
use super::rows::shopping_list;
use super::Store;
use crate::domain::{Item, ItemFields, UserRef};
use crate::{events, ListsError};

/// An `AddItem` call waiting for its batch: the item goes at the end of the
/// list (position = highest + 1, 0 for the first) and emits `ItemAdded`.
#[derive(Debug)]
pub(crate) struct Adding {
    pub actor: UserRef,
    pub list_id: Uuid,
    pub fields: ItemFields,
}

impl Store {
    /// Adds the items of many calls in one transaction; an outcome per call,
    /// in order. Items added to one list take consecutive positions and event
    /// numbers in the calls' order.
    pub(crate) async fn add_items(&self, calls: &[Adding]) -> Batch<Item, ListsError> {
        let mut list_ids: Vec<Uuid> = calls.iter().map(|call| call.list_id).collect();
        list_ids.sort_unstable();
        list_ids.dedup();
        let mut tx = access::begin_locking(&self.outbox, &list_ids).await?;
        let mut places = read_places(&mut tx, calls).await?;
        // PostgreSQL keeps microseconds: the item answered is the item stored.
        let now = Utc::now().trunc_subsecs(6);
        let mut outcomes = Vec::with_capacity(calls.len());
        let mut added = Vec::with_capacity(calls.len());
        for call in calls {
            let outcome = places.place(call).map(|position| Item {
                id: Uuid::new_v4(),
                list_id: call.list_id,
                fields: call.fields.clone(),
                is_purchased: false,
                purchased_at: None,
                purchased_by: None,
                position,
                created_by: call.actor.clone(),
                created_at: now,
                updated_at: None,
                updated_by: None,
            });
            if let Ok(item) = &outcome {
                added.push(item.clone());
            }
            outcomes.push(outcome);
        }
        if added.is_empty() {
            return Ok(outcomes);
        }
        let events = added
            .iter()
            .map(|item| {
                let event = events::item_added(item, now);
                (LIST.topic(item.list_id), event, None)
            })
            .collect();
        let events = Enqueued::new(events);
        let appended = insert_items_with_events(&mut tx, &added, &events).await?;
        events.appended(&mut tx, appended);
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// What the batch read, under the lists' locks: each caller's access to
/// each list, and the position the list's next item takes.
struct Places {
    access: HashMap<(Uuid, Uuid), ListAccess>,
    next_position: HashMap<Uuid, i32>,
}

impl Places {
    /// The position of the call's item, if the caller may add it; taking it
    /// moves the list's next position on.
    fn place(&mut self, call: &Adding) -> Result<i32, ListsError> {
        let access = self
            .access
            .get(&(call.list_id, call.actor.id))
            .ok_or(ListsError::NotFound("list not found"))?;
        access.require_editable()?;
        let next = self
            .next_position
            .get_mut(&call.list_id)
            .ok_or(ListsError::NotFound("list not found"))?;
        let position = *next;
        *next = position
            .checked_add(1)
            .ok_or_else(|| ListsError::Invalid("the list has no room for another item".into()))?;
        Ok(position)
    }
}

/// Reads, in one statement, every list of the batch with its next position
/// and each caller's permission on it. A list that does not exist has no row.
async fn read_places(
    conn: &mut sqlx::PgConnection,
    calls: &[Adding],
) -> Result<Places, ListsError> {
    let list_ids: Vec<Uuid> = calls.iter().map(|call| call.list_id).collect();
    let caller_ids: Vec<Uuid> = calls.iter().map(|call| call.actor.id).collect();
    let rows = sqlx::query!(
        r#"WITH asked AS (
             SELECT DISTINCT list_id, caller_id
             FROM UNNEST($1::uuid[], $2::uuid[]) AS a (list_id, caller_id)
         ),
         listed AS (
             SELECT id, name, description, owner_id, is_archived, created_at, updated_at,
                    (SELECT COALESCE(MAX(i.position) + 1, 0) FROM items i
                     WHERE i.list_id = lists.id) AS next_position
             FROM lists WHERE id IN (SELECT list_id FROM asked)
         )
         SELECT listed.id AS "id!", listed.name AS "name!", listed.description,
                listed.owner_id AS "owner_id!", listed.is_archived AS "is_archived!",
                listed.created_at AS "created_at!", listed.updated_at,
                listed.next_position AS "next_position!", asked.caller_id AS "caller_id!",
                (SELECT permission FROM collaborators c
                 WHERE c.list_id = asked.list_id AND c.user_id = asked.caller_id) AS permission
         FROM asked JOIN listed ON listed.id = asked.list_id"#,
        &list_ids,
        &caller_ids,
    )
    .fetch_all(conn)
    .await?;
    let mut places = Places {
        access: HashMap::with_capacity(rows.len()),
        next_position: HashMap::with_capacity(rows.len()),
    };
    for row in rows {
        let list = shopping_list!(row);
        let access = ListAccess::stored(list, row.permission.as_deref())?;
        places
            .next_position
            .insert(access.list.id, row.next_position);
        places
            .access
            .insert((access.list.id, row.caller_id), access);
    }
    Ok(places)
}

/// Inserts the items and enqueues their events, in one statement; returns
/// the events' rows.
async fn insert_items_with_events(
    conn: &mut sqlx::PgConnection,
    items: &[Item],
    events: &Enqueued,
) -> Result<Vec<AppendedRow>, ListsError> {
    // The optional text columns hold NULLs, which the macro's check of a
    // `text[]` parameter (`&[String]`) does not admit: `as _` skips it there.
    let appended = sqlx::query_as!(
        AppendedRow,
        r#"WITH inserted AS (
             INSERT INTO items (id, list_id, name, quantity, unit, category_id, notes, image_url,
                                position, created_by, created_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::float8[], $5::text[],
                                  $6::text[], $7::text[], $8::text[], $9::int4[], $10::uuid[],
                                  $11::timestamptz[])
         )
         SELECT id AS "id!", sequence AS "sequence!"
         FROM pulse_outbox_append_events($12, $13, $14)"#,
        &column(items, |item| item.id),
        &column(items, |item| item.list_id),
        &column(items, |item| item.fields.name.clone()),
        &column(items, |item| item.fields.quantity),
        column(items, |item| item.fields.unit.clone()) as _,
        column(items, |item| item.fields.category_id.clone()) as _,
        column(items, |item| item.fields.notes.clone()) as _,
        column(items, |item| item.fields.image_url.clone()) as _,
        &column(items, |item| item.position),
        &column(items, |item| item.created_by.id),
        &column(items, |item| item.created_at),
        &events.topics,
        &events.envelopes,
        events.traceparent,
    )
    .fetch_all(conn)
    .await?;
    Ok(appended)
}

/// One field of every item, as an array parameter.
fn column<T>(items: &[Item], field: impl Fn(&Item) -> T) -> Vec<T> {
    items.iter().map(field).collect()
}
