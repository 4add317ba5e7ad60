-- Users are the subjects of JWTs; there is no users table.

-- One row per unordered pair of users who have exchanged a message: the
-- smaller id is user_a, so the pair has exactly one row whoever wrote first.
CREATE TABLE conversations (
    id UUID PRIMARY KEY,
    user_a UUID NOT NULL,
    user_b UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT one_conversation_per_pair UNIQUE (user_a, user_b),
    CHECK (user_a < user_b)
);
CREATE INDEX conversations_by_user_b ON conversations (user_b);

-- Messages as sent. A deleted message keeps its row (is_deleted) so a page
-- cursor pointing at it still works, but it is never shown again.
CREATE TABLE chat_messages (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations (id),
    sender_id UUID NOT NULL,
    recipient_id UUID NOT NULL,
    message TEXT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    read_at TIMESTAMPTZ,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (sender_id <> recipient_id)
);
-- Keyset paging of a conversation, newest first: (sent_at, id) is unique
-- even when many messages share a sent_at.
CREATE INDEX chat_messages_by_conversation ON chat_messages (conversation_id, sent_at DESC, id DESC);
CREATE INDEX chat_messages_by_sender ON chat_messages (sender_id);
CREATE INDEX chat_messages_by_recipient ON chat_messages (recipient_id);

CREATE TABLE relationships (
    id UUID PRIMARY KEY,
    trainer_id UUID NOT NULL,
    client_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Pending', 'Active', 'Ended')),
    can_edit_goals BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK (trainer_id <> client_id)
);
-- At most one open (pending or active) relationship per trainer and client,
-- enforced here: two simultaneous invitations cannot both be stored. Ended
-- ones stay as history, and the pair may start again.
CREATE UNIQUE INDEX one_open_relationship_per_pair ON relationships (trainer_id, client_id)
    WHERE status IN ('Pending', 'Active');
CREATE INDEX relationships_by_trainer ON relationships (trainer_id);
CREATE INDEX relationships_by_client ON relationships (client_id, status);

CREATE TABLE goals (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    trainer_id UUID,
    goal_type TEXT NOT NULL,
    target_calories INT CHECK (target_calories >= 0),
    target_protein_grams INT CHECK (target_protein_grams >= 0),
    target_carbs_grams INT CHECK (target_carbs_grams >= 0),
    target_fat_grams INT CHECK (target_fat_grams >= 0),
    target_date DATE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX goals_by_user ON goals (user_id, created_at DESC, id DESC);

CREATE TABLE goal_progress (
    id UUID PRIMARY KEY,
    goal_id UUID NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    notes TEXT,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX goal_progress_by_goal ON goal_progress (goal_id, recorded_at DESC, id DESC);

CREATE TABLE notifications (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC, id DESC);
