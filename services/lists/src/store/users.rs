//! The users table: the display name each user last signed in with, so that
//! user refs can be written for people other than the caller.

use pulse_auth::Identity;

use super::Store;
use crate::domain::UserRef;
use crate::ListsError;

/// Inserts the user or refreshes a changed name, returning the name in
/// effect. It writes only when something changed, so the common call is a
/// read. A token without a name keeps the name known from earlier tokens.
const REMEMBER: &str = "WITH up AS (
         INSERT INTO users (id, display_name) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name
         WHERE EXCLUDED.display_name <> ''
           AND users.display_name IS DISTINCT FROM EXCLUDED.display_name
         RETURNING display_name
     )
     SELECT display_name FROM up
     UNION ALL
     SELECT display_name FROM users WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM up)";

impl Store {
    /// Records the caller's name from their token and returns them as a user
    /// ref. Runs as its own statement, outside the command's transaction, so
    /// no command holds a user row lock (see the module docs on lock order).
    pub(crate) async fn remember(&self, identity: &Identity) -> Result<UserRef, ListsError> {
        let name = identity.name.trim();
        // A user's first two calls can race: the loser's insert finds the
        // winner's row but its snapshot predates it, so it reads nothing. The
        // second attempt, a new statement, sees the committed row.
        for _ in 0..2 {
            let found: Option<String> = sqlx::query_scalar(REMEMBER)
                .bind(identity.user_id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(display_name) = found {
                return Ok(UserRef {
                    id: identity.user_id,
                    display_name,
                });
            }
        }
        Err(sqlx::Error::RowNotFound.into())
    }
}
