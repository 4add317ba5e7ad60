-- A tenant's API key. Only the SHA-256 of the secret is kept (looked up
-- through its unique index); key_prefix is the secret's first 12 characters,
-- for listings. Money is NUMERIC(18,6): sums are exact to the micro-unit.
CREATE TABLE virtual_keys (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash BYTEA NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Active', 'Revoked')),
    budget NUMERIC(18, 6) CHECK (budget > 0),
    -- What the last SpendUpdate announced: the sum of every aggregated record.
    current_spend NUMERIC(18, 6) NOT NULL DEFAULT 0,
    -- When the last SpendUpdate was made; the next waits a whole window.
    last_spend_update_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX virtual_keys_by_creation ON virtual_keys (created_at DESC);

-- One aggregation window of a key: the SpendUpdate it announced.
CREATE TABLE spend_windows (
    id UUID PRIMARY KEY,
    virtual_key_id UUID NOT NULL REFERENCES virtual_keys (id) ON DELETE CASCADE,
    delta NUMERIC(18, 6) NOT NULL,
    previous_spend NUMERIC(18, 6) NOT NULL,
    current_spend NUMERIC(18, 6) NOT NULL,
    closed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX spend_windows_by_key ON spend_windows (virtual_key_id, closed_at DESC);

-- Spend as billing reports it. A record without a window waits for the
-- aggregator; the window it was summed into is set in the same transaction
-- that announces it, so no record is counted twice or lost across restarts.
-- The foreign key is checked at commit: the window row is written after
-- its records are claimed.
CREATE TABLE spend_records (
    id UUID PRIMARY KEY,
    virtual_key_id UUID NOT NULL REFERENCES virtual_keys (id) ON DELETE CASCADE,
    amount NUMERIC(18, 6) NOT NULL CHECK (amount > 0),
    description TEXT,
    recorded_at TIMESTAMPTZ NOT NULL,
    window_id UUID REFERENCES spend_windows (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX spend_records_waiting ON spend_records (virtual_key_id) WHERE window_id IS NULL;

-- Budget thresholds already alerted (each once, until the budget is set again).
CREATE TABLE budget_alerts (
    virtual_key_id UUID NOT NULL REFERENCES virtual_keys (id) ON DELETE CASCADE,
    threshold_percent INT NOT NULL CHECK (threshold_percent IN (50, 80, 100)),
    current_spend NUMERIC(18, 6) NOT NULL,
    fired_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (virtual_key_id, threshold_percent)
);

-- Tasks and media requests. Progress only increases (the service ignores
-- anything else; the CHECK keeps it in range).
CREATE TABLE tasks (
    id UUID PRIMARY KEY,
    virtual_key_id UUID NOT NULL REFERENCES virtual_keys (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('Task', 'Video', 'Image')),
    task_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Pending', 'Running', 'Completed', 'Failed')),
    percentage INT NOT NULL CHECK (percentage BETWEEN 0 AND 100),
    message TEXT,
    result TEXT,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_by_key ON tasks (virtual_key_id, created_at DESC);

-- The last navigation state of each key.
CREATE TABLE navigation_states (
    virtual_key_id UUID PRIMARY KEY REFERENCES virtual_keys (id) ON DELETE CASCADE,
    route TEXT NOT NULL,
    conversation_id TEXT,
    title TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The last reported health of each provider: only a change is announced.
CREATE TABLE provider_health (
    provider TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('Healthy', 'Degraded', 'Unhealthy')),
    message TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Every rate-limit warning, for later inspection.
CREATE TABLE rate_limit_warnings (
    id UUID PRIMARY KEY,
    provider TEXT NOT NULL,
    limit_type TEXT NOT NULL,
    usage_percent INT NOT NULL CHECK (usage_percent BETWEEN 0 AND 100),
    message TEXT NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL
);

-- Every alert raised for admins; its id is in the SystemAlert event.
CREATE TABLE system_alerts (
    id UUID PRIMARY KEY,
    severity TEXT NOT NULL CHECK (severity IN ('Info', 'Warning', 'Critical')),
    component TEXT NOT NULL,
    message TEXT NOT NULL,
    raised_at TIMESTAMPTZ NOT NULL
);
