-- Users as last seen in their tokens, so user refs ({id, displayName}) can be
-- written for people who are not the caller.
CREATE TABLE users (
    id UUID PRIMARY KEY,
    display_name TEXT NOT NULL
);

CREATE TABLE lists (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    owner_id UUID NOT NULL REFERENCES users (id),
    is_archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ
);

-- Everyone with access, the owner included (permission 'Owner').
CREATE TABLE collaborators (
    list_id UUID NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id),
    permission TEXT NOT NULL CHECK (permission IN ('Owner', 'Editor', 'Viewer')),
    added_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX collaborators_by_user ON collaborators (user_id);

CREATE TABLE items (
    id UUID PRIMARY KEY,
    list_id UUID NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    quantity DOUBLE PRECISION NOT NULL CHECK (quantity > 0),
    unit TEXT,
    category_id TEXT,
    notes TEXT,
    image_url TEXT,
    is_purchased BOOLEAN NOT NULL DEFAULT FALSE,
    purchased_at TIMESTAMPTZ,
    purchased_by UUID REFERENCES users (id),
    position INTEGER NOT NULL,
    created_by UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ,
    updated_by UUID REFERENCES users (id)
);
CREATE INDEX items_by_list ON items (list_id, position);

-- One row per gateway connection looking at a list. Times come from the
-- database clock so every instance's sweeper agrees on what is stale.
CREATE TABLE presence (
    list_id UUID NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL,
    user_id UUID NOT NULL,
    display_name TEXT NOT NULL,
    avatar_url TEXT,
    joined_at TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (list_id, connection_id)
);
CREATE INDEX presence_by_user ON presence (list_id, user_id);
CREATE INDEX presence_by_last_seen ON presence (last_seen);
