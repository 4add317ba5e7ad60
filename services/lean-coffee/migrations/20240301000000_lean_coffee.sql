-- A Lean Coffee session. Its creator is the facilitator.
CREATE TABLE sessions (
    id UUID PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT,
    facilitator_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Scheduled', 'InProgress', 'Completed', 'Cancelled')),
    scheduled_start_time TIMESTAMPTZ,
    actual_start_time TIMESTAMPTZ,
    actual_end_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_by_facilitator ON sessions (facilitator_id);

-- The author's display name is kept as it was when the topic was added.
CREATE TABLE topics (
    id UUID PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    author_id UUID NOT NULL,
    author_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ToDiscuss', 'Discussing', 'Discussed', 'Archived')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ
);
CREATE INDEX topics_by_session ON topics (session_id, created_at);

-- One vote per user per topic, enforced here: concurrent votes of one user
-- cannot both be stored, whatever the application does. A topic's vote count
-- is always counted from these rows, never kept as a separate number.
CREATE TABLE votes (
    topic_id UUID NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    cast_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT one_vote_per_user_per_topic PRIMARY KEY (topic_id, user_id)
);
CREATE INDEX votes_by_voter ON votes (session_id, user_id);

-- Everyone who ever entered a session; active while they have a connection.
CREATE TABLE participants (
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('Facilitator', 'Participant')),
    is_active BOOLEAN NOT NULL,
    joined_at TIMESTAMPTZ NOT NULL,
    left_at TIMESTAMPTZ,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX participants_by_user ON participants (user_id);

-- One row per gateway connection in a session. Times come from the database
-- clock so every instance's sweeper agrees on what is stale.
CREATE TABLE participant_connections (
    session_id UUID NOT NULL,
    connection_id TEXT NOT NULL,
    user_id UUID NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, connection_id),
    FOREIGN KEY (session_id, user_id) REFERENCES participants (session_id, user_id) ON DELETE CASCADE
);
CREATE INDEX participant_connections_by_user ON participant_connections (session_id, user_id);
CREATE INDEX participant_connections_by_last_seen ON participant_connections (last_seen);
