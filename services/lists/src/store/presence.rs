//! Presence: one row per gateway connection on a list (`presence`) and one
//! per user present (`present_users`).
//!
//! Entering, leaving and the sweeper never lock the list row, so joins to one
//! list do not queue behind each other: each locks only the user's own
//! collaborator row (`FOR NO KEY UPDATE`). That lock serializes one user's
//! tabs, so "is this the user's first / last connection?" is answered and
//! acted on atomically (one `UserJoined` / `UserLeft` per user, however many
//! tabs or gateways), and it conflicts with `RemoveCollaborator` and
//! permission changes, so nobody enters with access being taken away.
//!
//! `UserJoined` / `UserLeft` are presence notices (`pulse_outbox::enqueue_notice`):
//! delivered live to the others, outside the group's numbered stream.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use pulse_outbox::OutboxTransaction;
use pulse_proto::lists::LIST;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{stored_permission, ActiveUserRow};
use super::Store;
use crate::domain::{require, Action, ActiveUser, Connection, UserRef};
use crate::{events, ListsError};

/// The most active users a joiner is told about (`PresenceUpdate`): the
/// earliest to join, and the joiner. Every join reads and sends this many,
/// so a crowd of n joining costs n × this limit: listing everyone would make
/// it quadratic (10,000 joins took 16 s at 100, under 6 s at 20 in a debug
/// build). Later arrivals reach the joiner as `UserJoined`.
pub const ACTIVE_USERS_LIMIT: i64 = 20;

impl Store {
    /// Records the connection (or refreshes it when it re-enters) and returns
    /// the active users, one per user, the caller included (at most
    /// [`ACTIVE_USERS_LIMIT`] others). The user's first connection emits
    /// `UserJoined` to the others.
    pub(crate) async fn enter_list(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        connection: Connection,
    ) -> Result<Vec<ActiveUser>, ListsError> {
        let mut tx = self.outbox.begin().await?;
        let list_exists = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM lists WHERE id = $1) AS "exists!""#,
            list_id,
        )
        .fetch_one(&mut *tx)
        .await?;
        if !list_exists {
            return Err(ListsError::NotFound("list not found"));
        }
        let permission = lock_collaborator(&mut tx, list_id, actor.id)
            .await?
            .as_deref()
            .map(stored_permission)
            .transpose()?;
        require(permission, Action::Read)?;
        let claimed = sqlx::query_scalar!(
            "INSERT INTO presence (list_id, connection_id, user_id, display_name, avatar_url, joined_at, last_seen)
             VALUES ($1, $2, $3, $4, $5, now(), now())
             ON CONFLICT (list_id, connection_id) DO UPDATE
                 SET display_name = EXCLUDED.display_name,
                     avatar_url = COALESCE(EXCLUDED.avatar_url, presence.avatar_url),
                     last_seen = now()
                 WHERE presence.user_id = EXCLUDED.user_id
             RETURNING user_id",
            list_id,
            &connection.id,
            actor.id,
            &actor.display_name,
            connection.avatar_url.as_deref(),
        )
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            return Err(ListsError::Invalid(
                "connectionId is in use by another user".into(),
            ));
        }
        // `xmax = 0`: the row was inserted, not updated; under the
        // collaborator lock that means this is the user's first connection.
        let entered = sqlx::query!(
            r#"INSERT INTO present_users (list_id, user_id, display_name, avatar_url, joined_at)
             VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (list_id, user_id) DO UPDATE
                 SET display_name = EXCLUDED.display_name,
                     avatar_url = COALESCE(EXCLUDED.avatar_url, present_users.avatar_url)
             RETURNING user_id, display_name, avatar_url, joined_at, (xmax = 0) AS "first!""#,
            list_id,
            actor.id,
            &actor.display_name,
            connection.avatar_url.as_deref(),
        )
        .fetch_one(&mut *tx)
        .await?;
        let first = entered.first;
        let me = ActiveUser::from(ActiveUserRow {
            user_id: entered.user_id,
            display_name: entered.display_name,
            avatar_url: entered.avatar_url,
            joined_at: entered.joined_at,
        });
        if first {
            notify(
                &mut tx,
                list_id,
                events::user_joined(list_id, &me, Utc::now()),
                actor.id,
            )
            .await?;
        }
        let rows = active_users(&mut tx, list_id).await?;
        tx.commit().await?;
        let mut active: Vec<ActiveUser> = rows.into_iter().map(Into::into).collect();
        if !active.iter().any(|user| user.id == me.id) {
            active.push(me);
        }
        Ok(active)
    }

    /// The heartbeat. NOT_FOUND when the connection is not present (expired
    /// by the sweeper, or never entered): the gateway then enters again.
    /// Needs no lock: the sweeper's delete re-checks `last_seen` after
    /// waiting for this update, so a touched row is never swept.
    pub(crate) async fn touch_presence(
        &self,
        user_id: Uuid,
        list_id: Uuid,
        connection_id: &str,
    ) -> Result<(), ListsError> {
        let touched = sqlx::query!(
            "UPDATE presence SET last_seen = now() WHERE list_id = $1 AND connection_id = $2 AND user_id = $3",
            list_id,
            connection_id,
            user_id,
        )
        .execute(self.outbox.pool())
        .await?
        .rows_affected();
        if touched == 0 {
            return Err(ListsError::NotFound(
                "connection is not present on this list",
            ));
        }
        Ok(())
    }

    /// Removes the connection; the user's last connection emits `UserLeft` to
    /// the others. Exiting a connection that is not present does nothing.
    pub(crate) async fn exit_list(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        connection_id: &str,
    ) -> Result<(), ListsError> {
        let mut tx = self.outbox.begin().await?;
        let list_exists = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM lists WHERE id = $1) AS "exists!""#,
            list_id,
        )
        .fetch_one(&mut *tx)
        .await?;
        if !list_exists {
            return Err(ListsError::NotFound("list not found"));
        }
        lock_collaborator(&mut tx, list_id, actor.id).await?;
        let removed = sqlx::query!(
            "DELETE FROM presence WHERE list_id = $1 AND connection_id = $2 AND user_id = $3",
            list_id,
            connection_id,
            actor.id,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed > 0 {
            leave_if_gone(&mut tx, list_id, actor.id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes connections silent for longer than `timeout`, emitting
    /// `UserLeft` for each user left without a connection on that list.
    /// Returns how many connections were removed. Safe to run from several
    /// instances at once: each user is swept under their collaborator lock.
    pub(crate) async fn sweep_presence(&self, timeout: Duration) -> Result<u64, ListsError> {
        let seconds = timeout.as_secs_f64();
        let stale = sqlx::query!(
            "SELECT DISTINCT list_id, user_id FROM presence
             WHERE last_seen < now() - make_interval(secs => $1)",
            seconds,
        )
        .fetch_all(self.outbox.pool())
        .await?;
        let mut removed = 0;
        for row in stale {
            removed += self.sweep_user(row.list_id, row.user_id, seconds).await?;
        }
        Ok(removed)
    }

    async fn sweep_user(
        &self,
        list_id: Uuid,
        user_id: Uuid,
        timeout_seconds: f64,
    ) -> Result<u64, ListsError> {
        let mut tx = self.outbox.begin().await?;
        lock_collaborator(&mut tx, list_id, user_id).await?;
        let removed = sqlx::query!(
            "DELETE FROM presence
             WHERE list_id = $1 AND user_id = $2
               AND last_seen < clock_timestamp() - make_interval(secs => $3)",
            list_id,
            user_id,
            timeout_seconds,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed > 0 {
            leave_if_gone(&mut tx, list_id, user_id).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }
}

/// The list's first [`ACTIVE_USERS_LIMIT`] present users, earliest first.
async fn active_users(
    conn: &mut PgConnection,
    list_id: Uuid,
) -> Result<Vec<ActiveUserRow>, ListsError> {
    Ok(sqlx::query_as!(
        ActiveUserRow,
        "SELECT user_id, display_name, avatar_url, joined_at FROM present_users
         WHERE list_id = $1 ORDER BY joined_at, user_id LIMIT $2",
        list_id,
        ACTIVE_USERS_LIMIT,
    )
    .fetch_all(conn)
    .await?)
}

/// Ends every connection of a user who lost access, in the caller's
/// transaction (which holds the list and collaborator locks), with
/// `UserLeft` to the others if they were present.
pub(super) async fn end_presence(
    tx: &mut OutboxTransaction,
    list_id: Uuid,
    user: &UserRef,
) -> Result<(), ListsError> {
    sqlx::query!(
        "DELETE FROM presence WHERE list_id = $1 AND user_id = $2",
        list_id,
        user.id,
    )
    .execute(&mut **tx)
    .await?;
    let was_present = sqlx::query!(
        "DELETE FROM present_users WHERE list_id = $1 AND user_id = $2",
        list_id,
        user.id,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    if was_present {
        notify(
            tx,
            list_id,
            events::user_left(list_id, user, Utc::now()),
            user.id,
        )
        .await?;
    }
    Ok(())
}

/// Locks the user's collaborator row for the rest of the transaction and
/// returns their stored permission; `None` without access (no row to lock:
/// a user without access has no presence to race on).
async fn lock_collaborator(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<Option<String>, ListsError> {
    let permission = sqlx::query_scalar!(
        "SELECT permission FROM collaborators WHERE list_id = $1 AND user_id = $2 FOR NO KEY UPDATE",
        list_id,
        user_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(permission)
}

/// With the user's collaborator row locked: if they have no connection left,
/// they are no longer present and the others get `UserLeft`.
async fn leave_if_gone(
    tx: &mut OutboxTransaction,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<(), ListsError> {
    let left = sqlx::query_scalar!(
        "DELETE FROM present_users
         WHERE list_id = $1 AND user_id = $2
           AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.list_id = $1 AND p.user_id = $2)
         RETURNING display_name",
        list_id,
        user_id,
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(display_name) = left {
        let user = UserRef {
            id: user_id,
            display_name,
        };
        notify(
            tx,
            list_id,
            events::user_left(list_id, &user, Utc::now()),
            user_id,
        )
        .await?;
    }
    Ok(())
}

/// A presence notice to the others: outside the list's numbered stream.
async fn notify(
    tx: &mut OutboxTransaction,
    list_id: Uuid,
    event: pulse_proto::lists::v1::event::Kind,
    except: Uuid,
) -> Result<(), ListsError> {
    pulse_outbox::enqueue_notice(tx, &LIST.topic(list_id), event, Some(except)).await?;
    Ok(())
}

/// A request to enter, as [`Store::enter_lists`] takes it. `actor` is named
/// as their token names them; the batch remembers every caller's name in one
/// statement, as [`Store::remember`] does for one.
#[derive(Debug)]
pub(crate) struct Entering {
    pub actor: UserRef,
    pub list_id: Uuid,
    pub connection: Connection,
}

/// A request to exit, as [`Store::exit_lists`] takes it.
#[derive(Debug)]
pub(crate) struct Exiting {
    pub actor: UserRef,
    pub list_id: Uuid,
    pub connection_id: String,
}

/// A keep-alive, as [`Store::touch_presences`] takes it.
#[derive(Debug)]
pub(crate) struct Touching {
    pub user_id: Uuid,
    pub list_id: Uuid,
    pub connection_id: String,
}

impl Store {
    /// [`Store::enter_list`] for many connections in one transaction, with
    /// the same outcome per entry: set-based statements, one lock per user
    /// (taken in a fixed order, so batches never deadlock each other), one
    /// read of each list's active users for all its joiners. Fails as a
    /// whole only for a database error (or a connection id given twice).
    pub(crate) async fn enter_lists(
        &self,
        entries: &[Entering],
    ) -> Result<Vec<Result<Vec<ActiveUser>, ListsError>>, ListsError> {
        let callers: Vec<(Uuid, String)> = entries
            .iter()
            .map(|e| (e.actor.id, e.actor.display_name.clone()))
            .collect();
        let names = self.remember_all(&callers).await?;
        let mut tx = self.outbox.begin().await?;
        let pairs = Pairs::of(entries.iter().map(|e| (e.list_id, e.actor.id)));
        let (existing, held) = lock_collaborators(&mut tx, &pairs).await?;
        let mut outcomes: Vec<Result<(), ListsError>> = entries
            .iter()
            .map(|e| {
                if !existing.contains(&e.list_id) {
                    return Err(ListsError::NotFound("list not found"));
                }
                let permission = held
                    .get(&(e.list_id, e.actor.id))
                    .map(|p| stored_permission(p))
                    .transpose()?;
                require(permission, Action::Read).map(|_| ())
            })
            .collect();
        let admitted: Vec<&Entering> = entries
            .iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| outcome.is_ok())
            .map(|(e, _)| e)
            .collect();
        let claimed = sqlx::query!(
            "INSERT INTO presence (list_id, connection_id, user_id, display_name, avatar_url, joined_at, last_seen)
             SELECT list_id, connection_id, user_id, display_name, avatar_url, now(), now()
             FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[])
                 AS e (list_id, connection_id, user_id, display_name, avatar_url)
             ON CONFLICT (list_id, connection_id) DO UPDATE
                 SET display_name = EXCLUDED.display_name,
                     avatar_url = COALESCE(EXCLUDED.avatar_url, presence.avatar_url),
                     last_seen = now()
                 WHERE presence.user_id = EXCLUDED.user_id
             RETURNING list_id, connection_id",
            &admitted.iter().map(|e| e.list_id).collect::<Vec<_>>(),
            &admitted.iter().map(|e| e.connection.id.clone()).collect::<Vec<_>>(),
            &admitted.iter().map(|e| e.actor.id).collect::<Vec<_>>(),
            &admitted.iter().map(|e| name_of(&names, e)).collect::<Vec<_>>(),
            // Avatars may be NULL, which the check of a `text[]` parameter
            // (`&[String]`) does not admit: `as _` skips it here.
            admitted.iter().map(|e| e.connection.avatar_url.clone()).collect::<Vec<_>>() as _,
        )
        .fetch_all(&mut *tx)
        .await?;
        let claimed: HashSet<(Uuid, &str)> = claimed
            .iter()
            .map(|row| (row.list_id, row.connection_id.as_str()))
            .collect();
        for (entry, outcome) in entries.iter().zip(outcomes.iter_mut()) {
            if outcome.is_ok() && !claimed.contains(&(entry.list_id, entry.connection.id.as_str()))
            {
                *outcome = Err(ListsError::Invalid(
                    "connectionId is in use by another user".into(),
                ));
            }
        }
        // One row per present user: the first of their entries names them.
        let mut users: HashMap<(Uuid, Uuid), &Entering> = HashMap::new();
        for (entry, outcome) in entries.iter().zip(&outcomes) {
            if outcome.is_ok() {
                users
                    .entry((entry.list_id, entry.actor.id))
                    .or_insert(entry);
            }
        }
        let users: Vec<&Entering> = users.into_values().collect();
        let entered = sqlx::query!(
            r#"INSERT INTO present_users (list_id, user_id, display_name, avatar_url, joined_at)
             SELECT list_id, user_id, display_name, avatar_url, now()
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[])
                 AS e (list_id, user_id, display_name, avatar_url)
             ON CONFLICT (list_id, user_id) DO UPDATE
                 SET display_name = EXCLUDED.display_name,
                     avatar_url = COALESCE(EXCLUDED.avatar_url, present_users.avatar_url)
             RETURNING list_id, user_id, display_name, avatar_url, joined_at, (xmax = 0) AS "first!""#,
            &users.iter().map(|e| e.list_id).collect::<Vec<_>>(),
            &users.iter().map(|e| e.actor.id).collect::<Vec<_>>(),
            &users.iter().map(|e| name_of(&names, e)).collect::<Vec<_>>(),
            users
                .iter()
                .map(|e| e.connection.avatar_url.clone())
                .collect::<Vec<_>>() as _,
        )
        .fetch_all(&mut *tx)
        .await?;
        let now = Utc::now();
        let mut notices = Vec::new();
        let mut present: HashMap<(Uuid, Uuid), ActiveUser> = HashMap::new();
        for row in entered {
            let user = ActiveUser::from(ActiveUserRow {
                user_id: row.user_id,
                display_name: row.display_name,
                avatar_url: row.avatar_url,
                joined_at: row.joined_at,
            });
            if row.first {
                notices.push((
                    LIST.topic(row.list_id),
                    events::user_joined(row.list_id, &user, now),
                    Some(user.id),
                ));
            }
            present.insert((row.list_id, user.id), user);
        }
        pulse_outbox::enqueue_notices(&mut tx, notices).await?;
        let mut active: HashMap<Uuid, Vec<ActiveUser>> = HashMap::new();
        for list_id in pairs.lists() {
            let rows = active_users(&mut tx, list_id).await?;
            active.insert(list_id, rows.into_iter().map(Into::into).collect());
        }
        tx.commit().await?;
        Ok(entries
            .iter()
            .zip(outcomes)
            .map(|(entry, outcome)| {
                outcome?;
                let mut users = active.get(&entry.list_id).cloned().unwrap_or_default();
                if let Some(me) = present.get(&(entry.list_id, entry.actor.id)) {
                    if !users.iter().any(|user| user.id == me.id) {
                        users.push(me.clone());
                    }
                }
                Ok(users)
            })
            .collect())
    }

    /// [`Store::exit_list`] for many connections in one transaction, with the
    /// same outcome per entry.
    pub(crate) async fn exit_lists(
        &self,
        entries: &[Exiting],
    ) -> Result<Vec<Result<(), ListsError>>, ListsError> {
        let mut tx = self.outbox.begin().await?;
        let pairs = Pairs::of(entries.iter().map(|e| (e.list_id, e.actor.id)));
        let (existing, _) = lock_collaborators(&mut tx, &pairs).await?;
        let removed = sqlx::query!(
            "DELETE FROM presence p
             USING UNNEST($1::uuid[], $2::text[], $3::uuid[]) AS e (list_id, connection_id, user_id)
             WHERE p.list_id = e.list_id AND p.connection_id = e.connection_id AND p.user_id = e.user_id
             RETURNING p.list_id, p.user_id",
            &entries.iter().map(|e| e.list_id).collect::<Vec<_>>(),
            &entries.iter().map(|e| e.connection_id.clone()).collect::<Vec<_>>(),
            &entries.iter().map(|e| e.actor.id).collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?;
        let gone = Pairs::of(removed.into_iter().map(|row| (row.list_id, row.user_id)));
        let left = sqlx::query!(
            "DELETE FROM present_users u
             USING UNNEST($1::uuid[], $2::uuid[]) AS e (list_id, user_id)
             WHERE u.list_id = e.list_id AND u.user_id = e.user_id
               AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.list_id = e.list_id AND p.user_id = e.user_id)
             RETURNING u.list_id, u.user_id, u.display_name",
            &gone.0.iter().map(|(list, _)| *list).collect::<Vec<_>>(),
            &gone.0.iter().map(|(_, user)| *user).collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?;
        let now = Utc::now();
        let notices = left
            .into_iter()
            .map(|row| {
                let user = UserRef {
                    id: row.user_id,
                    display_name: row.display_name,
                };
                (
                    LIST.topic(row.list_id),
                    events::user_left(row.list_id, &user, now),
                    Some(row.user_id),
                )
            })
            .collect();
        pulse_outbox::enqueue_notices(&mut tx, notices).await?;
        tx.commit().await?;
        Ok(entries
            .iter()
            .map(|e| {
                if existing.contains(&e.list_id) {
                    Ok(())
                } else {
                    Err(ListsError::NotFound("list not found"))
                }
            })
            .collect())
    }
}

/// The name in effect for an entry's caller (remembered by the batch).
fn name_of(names: &HashMap<Uuid, String>, entry: &Entering) -> String {
    names.get(&entry.actor.id).cloned().unwrap_or_default()
}

impl Store {
    /// [`Store::touch_presence`] for many connections in one statement; the
    /// same outcome per entry (NOT_FOUND for a connection not present).
    pub(crate) async fn touch_presences(
        &self,
        entries: &[Touching],
    ) -> Result<Vec<Result<(), ListsError>>, ListsError> {
        let touched = sqlx::query!(
            "UPDATE presence p SET last_seen = now()
             FROM UNNEST($1::uuid[], $2::text[], $3::uuid[]) AS e (list_id, connection_id, user_id)
             WHERE p.list_id = e.list_id AND p.connection_id = e.connection_id AND p.user_id = e.user_id
             RETURNING p.list_id, p.connection_id",
            &entries.iter().map(|e| e.list_id).collect::<Vec<_>>(),
            &entries.iter().map(|e| e.connection_id.clone()).collect::<Vec<_>>(),
            &entries.iter().map(|e| e.user_id).collect::<Vec<_>>(),
        )
        .fetch_all(self.outbox.pool())
        .await?;
        let touched: HashSet<(Uuid, &str)> = touched
            .iter()
            .map(|row| (row.list_id, row.connection_id.as_str()))
            .collect();
        Ok(entries
            .iter()
            .map(|e| {
                if touched.contains(&(e.list_id, e.connection_id.as_str())) {
                    Ok(())
                } else {
                    Err(ListsError::NotFound(
                        "connection is not present on this list",
                    ))
                }
            })
            .collect())
    }
}

/// Distinct (list, user) pairs, sorted: the order their rows are locked in.
struct Pairs(Vec<(Uuid, Uuid)>);

impl Pairs {
    fn of(pairs: impl Iterator<Item = (Uuid, Uuid)>) -> Self {
        let mut pairs: Vec<(Uuid, Uuid)> = pairs.collect();
        pairs.sort_unstable();
        pairs.dedup();
        Self(pairs)
    }

    fn lists(&self) -> Vec<Uuid> {
        let mut lists: Vec<Uuid> = self.0.iter().map(|(list, _)| *list).collect();
        lists.dedup();
        lists
    }
}

/// Which of the lists exist, and locks the users' collaborator rows in
/// (list, user) order, returning their stored permissions.
async fn lock_collaborators(
    conn: &mut PgConnection,
    pairs: &Pairs,
) -> Result<(HashSet<Uuid>, HashMap<(Uuid, Uuid), String>), ListsError> {
    let existing = sqlx::query_scalar!("SELECT id FROM lists WHERE id = ANY($1)", &pairs.lists())
        .fetch_all(&mut *conn)
        .await?;
    let held = sqlx::query!(
        "SELECT list_id, user_id, permission FROM collaborators
         WHERE (list_id, user_id) IN (SELECT * FROM UNNEST($1::uuid[], $2::uuid[]))
         ORDER BY list_id, user_id
         FOR NO KEY UPDATE",
        &pairs.0.iter().map(|(list, _)| *list).collect::<Vec<_>>(),
        &pairs.0.iter().map(|(_, user)| *user).collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok((
        existing.into_iter().collect(),
        held.into_iter()
            .map(|row| ((row.list_id, row.user_id), row.permission))
            .collect(),
    ))
}
