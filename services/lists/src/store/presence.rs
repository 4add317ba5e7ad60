//! Presence rows: one per gateway connection on a list. Enter, exit and the
//! sweeper all lock the list row first, so "is this the user's first / last
//! connection?" is answered and acted on atomically: two tabs entering or
//! leaving at once yield exactly one `UserJoined` / `UserLeft`.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::ActiveUserRow;
use super::{access, emit, Store};
use crate::domain::{active_users, Action, ActiveUser, Connection, UserRef};
use crate::{events, ListsError};

impl Store {
    /// Records the connection (or refreshes it when it re-enters) and returns
    /// the active users, one per user, the caller included. The user's first
    /// connection emits `UserJoined` to the others.
    pub(crate) async fn enter_list(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        connection: Connection,
    ) -> Result<Vec<ActiveUser>, ListsError> {
        let mut tx = self.pool.begin().await?;
        access::lock(&mut tx, list_id, actor.id)
            .await?
            .require(Action::Read)?;
        let already_present = is_present(&mut tx, list_id, actor.id).await?;
        let row: Option<ActiveUserRow> = sqlx::query_as(
            "INSERT INTO presence (list_id, connection_id, user_id, display_name, avatar_url, joined_at, last_seen)
             VALUES ($1, $2, $3, $4, $5, now(), now())
             ON CONFLICT (list_id, connection_id) DO UPDATE
                 SET display_name = EXCLUDED.display_name,
                     avatar_url = COALESCE(EXCLUDED.avatar_url, presence.avatar_url),
                     last_seen = now()
                 WHERE presence.user_id = EXCLUDED.user_id
             RETURNING user_id, display_name, avatar_url, joined_at",
        )
        .bind(list_id)
        .bind(&connection.id)
        .bind(actor.id)
        .bind(&actor.display_name)
        .bind(&connection.avatar_url)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(ListsError::Invalid(
                "connectionId is in use by another user".into(),
            ));
        };
        if !already_present {
            let joined = ActiveUser::from(row);
            emit(
                &mut tx,
                list_id,
                events::user_joined(list_id, &joined, Utc::now()),
                Some(actor.id),
            )
            .await?;
        }
        let rows: Vec<ActiveUserRow> = sqlx::query_as(
            "SELECT user_id, display_name, avatar_url, joined_at FROM presence WHERE list_id = $1",
        )
        .bind(list_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(active_users(rows.into_iter().map(Into::into).collect()))
    }

    /// The heartbeat. NOT_FOUND when the connection is not present (expired
    /// by the sweeper, or never entered): the gateway then enters again.
    /// Needs no list lock: the sweeper's delete re-checks `last_seen` after
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
        if !access::lock_existing(&mut tx, list_id).await? {
            return Err(ListsError::NotFound("list not found"));
        }
        let removed: Option<String> = sqlx::query_scalar(
            "DELETE FROM presence WHERE list_id = $1 AND connection_id = $2 AND user_id = $3 RETURNING display_name",
        )
        .bind(list_id)
        .bind(connection_id)
        .bind(actor.id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(display_name) = removed {
            if !is_present(&mut tx, list_id, actor.id).await? {
                let user = UserRef {
                    id: actor.id,
                    display_name,
                };
                emit(
                    &mut tx,
                    list_id,
                    events::user_left(list_id, &user, Utc::now()),
                    Some(actor.id),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes connections silent for longer than `timeout`, emitting
    /// `UserLeft` for each user left without a connection on that list.
    /// Returns how many connections were removed. Safe to run from several
    /// instances at once: each list is swept under its row lock.
    pub(crate) async fn sweep_presence(&self, timeout: Duration) -> Result<u64, ListsError> {
        let seconds = timeout.as_secs_f64();
        let stale: Vec<Uuid> = sqlx::query_scalar(
            "SELECT DISTINCT list_id FROM presence WHERE last_seen < now() - make_interval(secs => $1)",
        )
        .bind(seconds)
        .fetch_all(&self.pool)
        .await?;
        let mut removed = 0;
        for list_id in stale {
            removed += self.sweep_list(list_id, seconds).await?;
        }
        Ok(removed)
    }

    async fn sweep_list(&self, list_id: Uuid, timeout_seconds: f64) -> Result<u64, ListsError> {
        let mut tx = self.pool.begin().await?;
        if !access::lock_existing(&mut tx, list_id).await? {
            return Ok(0);
        }
        let gone: Vec<(Uuid, String)> = sqlx::query_as(
            "DELETE FROM presence
             WHERE list_id = $1 AND last_seen < clock_timestamp() - make_interval(secs => $2)
             RETURNING user_id, display_name",
        )
        .bind(list_id)
        .bind(timeout_seconds)
        .fetch_all(&mut *tx)
        .await?;
        let mut announced = Vec::new();
        for (user_id, display_name) in &gone {
            if announced.contains(user_id) || is_present(&mut tx, list_id, *user_id).await? {
                continue;
            }
            announced.push(*user_id);
            let user = UserRef {
                id: *user_id,
                display_name: display_name.clone(),
            };
            emit(
                &mut tx,
                list_id,
                events::user_left(list_id, &user, Utc::now()),
                Some(*user_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(gone.len() as u64)
    }
}

async fn is_present(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<bool, ListsError> {
    let present: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM presence WHERE list_id = $1 AND user_id = $2)",
    )
    .bind(list_id)
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(present)
}
