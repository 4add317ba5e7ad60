//! The users table: the display name each user last signed in with, so that
//! user refs can be written for people other than the caller.

use std::collections::HashMap;

use pulse_auth::Identity;
use uuid::Uuid;

use super::Store;
use crate::domain::UserRef;
use crate::ListsError;

impl Store {
    /// Records the caller's name from their token and returns them as a user
    /// ref. Runs as its own statement, outside the command's transaction, so
    /// no command holds a user row lock (see the module docs on lock order).
    pub(crate) async fn remember(&self, identity: &Identity) -> Result<UserRef, ListsError> {
        self.remember_user(identity.user_id, &identity.name).await
    }

    /// [`Store::remember`] given the token's user id and name.
    pub(crate) async fn remember_user(&self, id: Uuid, name: &str) -> Result<UserRef, ListsError> {
        let name = name.trim();
        if let Some(display_name) = self.known_names.unchanged(id, name) {
            return Ok(UserRef { id, display_name });
        }
        // A user's first two calls can race: the loser's insert finds the
        // winner's row but its snapshot predates it, so it reads nothing. The
        // second attempt, a new statement, sees the committed row.
        for _ in 0..2 {
            // Inserts the user or refreshes a changed name, returning the
            // name in effect. It writes only when something changed, so the
            // common call is a read. A token without a name keeps the name
            // known from earlier tokens.
            let found = sqlx::query_scalar!(
                r#"WITH up AS (
                     INSERT INTO users (id, display_name) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name
                     WHERE EXCLUDED.display_name <> ''
                       AND users.display_name IS DISTINCT FROM EXCLUDED.display_name
                     RETURNING display_name
                 )
                 SELECT display_name AS "display_name!" FROM up
                 UNION ALL
                 SELECT display_name FROM users WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM up)"#,
                id,
                name,
            )
            .fetch_optional(self.outbox.pool())
            .await?;
            if let Some(display_name) = found {
                self.known_names.stored([(id, display_name.as_str())]);
                return Ok(UserRef { id, display_name });
            }
        }
        Err(sqlx::Error::RowNotFound.into())
    }

    /// [`Store::remember`] for many callers in one statement (a presence
    /// batch); returns the name in effect per user. Like `remember`, a second
    /// statement picks up users whose first call raced another.
    pub(crate) async fn remember_all(
        &self,
        callers: &[(Uuid, String)],
    ) -> Result<HashMap<Uuid, String>, ListsError> {
        let mut names = HashMap::with_capacity(callers.len());
        for _ in 0..2 {
            let (ids, given): (Vec<Uuid>, Vec<String>) = callers
                .iter()
                .filter(|(id, _)| !names.contains_key(id))
                .map(|(id, name)| (*id, name.trim().to_owned()))
                .unzip();
            if ids.is_empty() {
                return Ok(names);
            }
            // The single statement of `remember_user` for many users at once
            // (one row per user: the first name given for them).
            let rows: Vec<(Uuid, String)> = sqlx::query!(
                r#"WITH given AS (
                     SELECT DISTINCT ON (id) id, display_name
                     FROM UNNEST($1::uuid[], $2::text[]) WITH ORDINALITY AS g (id, display_name, i)
                     ORDER BY id, i
                 ),
                 up AS (
                     INSERT INTO users (id, display_name) SELECT id, display_name FROM given
                     ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name
                     WHERE EXCLUDED.display_name <> ''
                       AND users.display_name IS DISTINCT FROM EXCLUDED.display_name
                     RETURNING id, display_name
                 )
                 SELECT id AS "id!", display_name AS "display_name!" FROM up
                 UNION ALL
                 SELECT u.id, u.display_name FROM users u JOIN given g ON g.id = u.id
                 WHERE NOT EXISTS (SELECT 1 FROM up WHERE up.id = u.id)"#,
                &ids,
                &given,
            )
            .fetch_all(self.outbox.pool())
            .await?
            .into_iter()
            .map(|row| (row.id, row.display_name))
            .collect();
            self.known_names
                .stored(rows.iter().map(|(id, name)| (*id, name.as_str())));
            names.extend(rows);
        }
        if callers.iter().all(|(id, _)| names.contains_key(id)) {
            Ok(names)
        } else {
            Err(sqlx::Error::RowNotFound.into())
        }
    }
}
