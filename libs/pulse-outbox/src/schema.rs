use sqlx::PgPool;

/// Creates the outbox tables if they do not exist. Idempotent and safe to run
/// from several instances at once (serialized by an advisory lock).
pub async fn ensure_schema(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('pulse_outbox_schema'))")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS pulse_event_sequences (
             topic TEXT PRIMARY KEY,
             last_sequence BIGINT NOT NULL
         )",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS pulse_outbox (
             id BIGSERIAL PRIMARY KEY,
             topic TEXT NOT NULL,
             sequence BIGINT NOT NULL,
             envelope BYTEA NOT NULL,
             created_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
