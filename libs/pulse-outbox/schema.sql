-- The outbox tables every service's database carries beside its own
-- migrations. Run by `pulse_outbox::ensure_schema` at start-up and by
-- tests/tools/sqlx-prepare.sh for the compile-time query checks; idempotent,
-- and serialized by the advisory lock when several instances start at once.
SELECT pg_advisory_xact_lock(hashtext('pulse_outbox_schema'));

CREATE TABLE IF NOT EXISTS pulse_event_sequences (
    topic TEXT PRIMARY KEY,
    last_sequence BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS pulse_outbox (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    envelope BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The W3C trace context of the command that wrote the row, so the relay's
-- spans (and the gateway's after it) continue that command's trace; NULL when
-- the command was not traced. Added to tables created before it existed.
ALTER TABLE pulse_outbox ADD COLUMN IF NOT EXISTS traceparent TEXT;
