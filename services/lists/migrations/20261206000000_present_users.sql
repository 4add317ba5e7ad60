-- One row per user present on a list (however many connections they have),
-- beside the per-connection `presence` rows. Entering and leaving decide
-- "first / last connection of this user" by inserting / deleting this row
-- under the user's collaborator row lock, so joins of different users never
-- wait for each other, and the joiner's list of active users is read from
-- here in join order without scanning every connection.
CREATE TABLE present_users (
    list_id UUID NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    display_name TEXT NOT NULL,
    avatar_url TEXT,
    joined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX present_users_by_join ON present_users (list_id, joined_at, user_id);

INSERT INTO present_users (list_id, user_id, display_name, avatar_url, joined_at)
SELECT DISTINCT ON (list_id, user_id) list_id, user_id, display_name, avatar_url, joined_at
FROM presence
ORDER BY list_id, user_id, joined_at;
