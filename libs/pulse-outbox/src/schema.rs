use sqlx::{Executor, PgPool};

/// The outbox tables' DDL, kept in a file of its own so the script that
/// prepares the compile-time query checks (`tests/tools/sqlx-prepare.sh`)
/// creates exactly what a service creates.
const SCHEMA: &str = include_str!("../schema.sql");

/// Creates the outbox tables if they do not exist. Idempotent and safe to run
/// from several instances at once (serialized by an advisory lock).
///
/// Unchecked: DDL, several statements in one simple query (a `&str` without
/// arguments), which the query macros cannot describe.
pub async fn ensure_schema(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    tx.execute(SCHEMA).await?;
    tx.commit().await
}
