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

use std::time::Duration;

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{stored_permission, ActiveUserRow};
use super::Store;
use crate::domain::{require, Action, ActiveUser, Connection, UserRef};
use crate::{events, ListsError};

/// The most active users a joiner is told about (`PresenceUpdate`): the
/// earliest to join, and the joiner. Reading every present user per join
/// would make a crowd's joins quadratic; later ones arrive as `UserJoined`.
pub const ACTIVE_USERS_LIMIT: i64 = 100;

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
        let mut tx = self.pool.begin().await?;
        let list_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM lists WHERE id = $1)")
                .bind(list_id)
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
        let claimed: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO presence (list_id, connection_id, user_id, display_name, avatar_url, joined_at, last_seen)
             VALUES ($1, $2, $3, $4, $5, now(), now())
             ON CONFLICT (list_id, connection_id) DO UPDATE
                 SET display_name = EXCLUDED.display_name,
                     avatar_url = COALESCE(EXCLUDED.avatar_url, presence.avatar_url),
                     last_seen = now()
                 WHERE presence.user_id = EXCLUDED.user_id
             RETURNING user_id",
        )
        .bind(list_id)
        .bind(&connection.id)
        .bind(actor.id)
        .bind(&actor.display_name)
        .bind(&connection.avatar_url)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            return Err(ListsError::Invalid(
                "connectionId is in use by another user".into(),
            ));
        }
        // `xmax = 0`: the row was inserted, not updated; under the
        // collaborator lock that means this is the user's first connection.
        let entered: Entered = sqlx::query_as(
            "INSERT INTO present_users (list_id, user_id, display_name, avatar_url, joined_at)
             VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (list_id, user_id) DO UPDATE
                 SET display_name = EXCLUDED.display_name,
                     avatar_url = COALESCE(EXCLUDED.avatar_url, present_users.avatar_url)
             RETURNING user_id, display_name, avatar_url, joined_at, (xmax = 0) AS first",
        )
        .bind(list_id)
        .bind(actor.id)
        .bind(&actor.display_name)
        .bind(&connection.avatar_url)
        .fetch_one(&mut *tx)
        .await?;
        let first = entered.first;
        let row = entered.user;
        let me = ActiveUser::from(row);
        if first {
            notify(
                &mut tx,
                list_id,
                events::user_joined(list_id, &me, Utc::now()),
                actor.id,
            )
            .await?;
        }
        let rows: Vec<ActiveUserRow> = sqlx::query_as(
            "SELECT user_id, display_name, avatar_url, joined_at FROM present_users
             WHERE list_id = $1 ORDER BY joined_at, user_id LIMIT $2",
        )
        .bind(list_id)
        .bind(ACTIVE_USERS_LIMIT)
        .fetch_all(&mut *tx)
        .await?;
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
        actor: &UserRef,
        list_id: Uuid,
        connection_id: &str,
    ) -> Result<(), ListsError> {
        let touched = sqlx::query(
            "UPDATE presence SET last_seen = now() WHERE list_id = $1 AND connection_id = $2 AND user_id = $3",
        )
        .bind(list_id)
        .bind(connection_id)
        .bind(actor.id)
        .execute(&self.pool)
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
        let mut tx = self.pool.begin().await?;
        let list_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM lists WHERE id = $1)")
                .bind(list_id)
                .fetch_one(&mut *tx)
                .await?;
        if !list_exists {
            return Err(ListsError::NotFound("list not found"));
        }
        lock_collaborator(&mut tx, list_id, actor.id).await?;
        let removed = sqlx::query(
            "DELETE FROM presence WHERE list_id = $1 AND connection_id = $2 AND user_id = $3",
        )
        .bind(list_id)
        .bind(connection_id)
        .bind(actor.id)
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
        let stale: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT DISTINCT list_id, user_id FROM presence
             WHERE last_seen < now() - make_interval(secs => $1)",
        )
        .bind(seconds)
        .fetch_all(&self.pool)
        .await?;
        let mut removed = 0;
        for (list_id, user_id) in stale {
            removed += self.sweep_user(list_id, user_id, seconds).await?;
        }
        Ok(removed)
    }

    async fn sweep_user(
        &self,
        list_id: Uuid,
        user_id: Uuid,
        timeout_seconds: f64,
    ) -> Result<u64, ListsError> {
        let mut tx = self.pool.begin().await?;
        lock_collaborator(&mut tx, list_id, user_id).await?;
        let removed = sqlx::query(
            "DELETE FROM presence
             WHERE list_id = $1 AND user_id = $2
               AND last_seen < clock_timestamp() - make_interval(secs => $3)",
        )
        .bind(list_id)
        .bind(user_id)
        .bind(timeout_seconds)
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

/// The caller's present-user row after entering, and whether entering
/// created it.
#[derive(sqlx::FromRow)]
struct Entered {
    #[sqlx(flatten)]
    user: ActiveUserRow,
    first: bool,
}

/// Ends every connection of a user who lost access, in the caller's
/// transaction (which holds the list and collaborator locks), with
/// `UserLeft` to the others if they were present.
pub(super) async fn end_presence(
    conn: &mut PgConnection,
    list_id: Uuid,
    user: &UserRef,
) -> Result<(), ListsError> {
    sqlx::query("DELETE FROM presence WHERE list_id = $1 AND user_id = $2")
        .bind(list_id)
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    let was_present = sqlx::query("DELETE FROM present_users WHERE list_id = $1 AND user_id = $2")
        .bind(list_id)
        .bind(user.id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        > 0;
    if was_present {
        notify(
            conn,
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
    let permission = sqlx::query_scalar(
        "SELECT permission FROM collaborators WHERE list_id = $1 AND user_id = $2 FOR NO KEY UPDATE",
    )
    .bind(list_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(permission)
}

/// With the user's collaborator row locked: if they have no connection left,
/// they are no longer present and the others get `UserLeft`.
async fn leave_if_gone(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<(), ListsError> {
    let left: Option<String> = sqlx::query_scalar(
        "DELETE FROM present_users
         WHERE list_id = $1 AND user_id = $2
           AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.list_id = $1 AND p.user_id = $2)
         RETURNING display_name",
    )
    .bind(list_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(display_name) = left {
        let user = UserRef {
            id: user_id,
            display_name,
        };
        notify(
            conn,
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
    conn: &mut PgConnection,
    list_id: Uuid,
    event: pulse_proto::events::v1::event::Kind,
    except: Uuid,
) -> Result<(), ListsError> {
    pulse_outbox::enqueue_notice(conn, &pulse_bus::Topic::List(list_id), event, Some(except))
        .await?;
    Ok(())
}
