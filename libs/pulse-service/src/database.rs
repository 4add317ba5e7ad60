//! Database chores every service shares.

use sqlx::{error::ErrorKind, migrate::MigrateDatabase, Postgres};

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

/// The constraint a unique or foreign-key violation names: a request that
/// collided with a row the service's own check did not see (a collaborator
/// shared twice), which the service reports as the client error its check
/// gives ([`crate::Refusals::on_constraint`]).
/// Other failures, and violations of other kinds (`CHECK`, `NOT NULL`: the
/// service's own validation keeps those out), are `None`.
pub fn violated_constraint(error: &sqlx::Error) -> Option<&str> {
    let db = error.as_database_error()?;
    let collided = matches!(
        db.kind(),
        ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation
    );
    collided.then(|| db.constraint()).flatten()
}

/// PostgreSQL codes meaning "the server is not serving you now": admin,
/// crash and startup shutdown (57P01-57P03), too many connections (53300),
/// and the connection-exception class (08xxx).
const UNAVAILABLE: [&str; 4] = ["57P01", "57P02", "57P03", "53300"];
const CONNECTION_EXCEPTION_CLASS: &str = "08";

/// Whether `error` says the database is out of reach or not serving (the
/// pool found no connection in time, the socket failed, the server is
/// shutting down or full) rather than that this request was wrong: a retry
/// later may succeed, so callers are told `UNAVAILABLE`.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            UNAVAILABLE.contains(&code.as_ref()) || code.starts_with(CONNECTION_EXCEPTION_CLASS)
        }),
        // `sqlx::Error` is non-exhaustive: what is not known to be an
        // outage is reported as an internal error.
        _ => false,
    }
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
