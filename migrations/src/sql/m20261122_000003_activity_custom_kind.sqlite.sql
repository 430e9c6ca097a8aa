-- SQLite cannot change a CHECK constraint: rebuild the activities table with the
-- same columns and indexes, and `custom` among the kinds.
CREATE TABLE activities_new (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('page_view', 'feature', 'sign_in', 'admin_change', 'manual', 'custom')),
    name    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}',
    source  TEXT NOT NULL DEFAULT ''
);
INSERT INTO activities_new (id, user_id, at, kind, name, detail, source)
    SELECT id, user_id, at, kind, name, detail, source FROM activities;
DROP TABLE activities;
ALTER TABLE activities_new RENAME TO activities;
CREATE INDEX activities_user_at_idx ON activities (user_id, at);
-- Retention purges by age across all users.
CREATE INDEX activities_at_idx ON activities (at);
