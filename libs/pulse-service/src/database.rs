//! Database chores every service shares.

use sqlx::{migrate::MigrateDatabase, Postgres};

/// PostgreSQL codes meaning "this transaction lost a race": serialization
/// failure and deadlock detected.
const CONTENTION: [&str; 2] = ["40001", "40P01"];

/// Whether the database refused a transaction because it lost a race with
/// another one: nothing was changed and a retry is expected to succeed, so
/// callers are told to retry (`ABORTED`) rather than shown an internal error.
pub fn is_contention(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| CONTENTION.contains(&code.as_ref()))
}

/// Creates the database on first start. Two instances starting together may
/// both try; the loser's "already exists" is fine.
pub(crate) async fn create_database_if_missing(url: &str) -> Result<(), sqlx::Error> {
    if Postgres::database_exists(url).await? {
        return Ok(());
    }
    match Postgres::create_database(url).await {
        Ok(()) => Ok(()),
        Err(error) if Postgres::database_exists(url).await.unwrap_or(false) => {
            tracing::debug!(%error, "database created concurrently");
            Ok(())
        }
        Err(error) => Err(error),
    }
}
