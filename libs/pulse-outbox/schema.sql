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

-- Numbers events in their groups and appends their outbox rows, in the
-- given order: each group's sequence moves on by its count of events in one
-- upsert, which locks the group's sequence row until the transaction ends
-- (rows locked in the order of the groups' names, so two transactions
-- never wait for each other in a circle). Returns each event's row id and
-- number, in order: the committing process hands them to its relay
-- (`pulse_outbox::OutboxTransaction`). Called by `pulse_outbox::enqueue_all`,
-- and by a service's own statement that writes a change together with its
-- events (`pulse_outbox::Enqueued`). PL/pgSQL, so each session plans it once.
CREATE OR REPLACE FUNCTION pulse_outbox_append_events(
    given_topics TEXT[],
    given_envelopes BYTEA[],
    given_traceparent TEXT
) RETURNS TABLE (id BIGINT, sequence BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH given AS (
        SELECT topic, envelope, i,
               row_number() OVER (PARTITION BY topic ORDER BY i) AS nth,
               count(*) OVER (PARTITION BY topic) AS n
        FROM UNNEST(given_topics, given_envelopes) WITH ORDINALITY AS g (topic, envelope, i)
    ),
    next AS (
        INSERT INTO pulse_event_sequences AS s (topic, last_sequence)
        SELECT DISTINCT topic, n FROM given ORDER BY topic
        ON CONFLICT (topic) DO UPDATE
            SET last_sequence = s.last_sequence + EXCLUDED.last_sequence
        RETURNING s.topic, s.last_sequence
    )
    INSERT INTO pulse_outbox AS o (topic, sequence, envelope, traceparent, created_at)
    SELECT g.topic, next.last_sequence - g.n + g.nth, g.envelope, given_traceparent,
           clock_timestamp()
    FROM given g JOIN next USING (topic)
    ORDER BY g.i
    RETURNING o.id, o.sequence;
END
$$;

-- Its predecessor returned the numbers only; a function's result type
-- cannot be replaced in place.
DROP FUNCTION IF EXISTS pulse_outbox_enqueue(TEXT[], BYTEA[], TEXT);
