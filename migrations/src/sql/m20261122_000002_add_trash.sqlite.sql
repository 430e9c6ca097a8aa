-- Undoable deletes, SQLite dialect. One `deletions` row per delete command; the
-- trash tables hold copies of what the command removed until the undo window ends.

CREATE TABLE deletions (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER,
    actor_email TEXT NOT NULL DEFAULT '',
    users       BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE INDEX deletions_created_idx ON deletions (created_at);

CREATE TABLE trash_users (
    deletion_id             INTEGER NOT NULL REFERENCES deletions(id) ON DELETE CASCADE,
    id                      INTEGER NOT NULL,
    email                   TEXT NOT NULL,
    username                TEXT,
    phone                   TEXT,
    first_name              TEXT NOT NULL,
    last_name               TEXT NOT NULL,
    job_title               TEXT NOT NULL,
    company                 TEXT NOT NULL,
    address                 TEXT NOT NULL,
    language                TEXT NOT NULL,
    status                  TEXT NOT NULL,
    role_id                 INTEGER NOT NULL,
    balance                 BIGINT NOT NULL,
    email_opt_in            BOOLEAN NOT NULL,
    email_opt_in_changed_at TEXT,
    note                    TEXT NOT NULL,
    attributes              TEXT NOT NULL,
    password_hash           TEXT,
    must_change_password    BOOLEAN NOT NULL,
    signup_source           TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    last_access_at          TEXT,
    version                 INTEGER NOT NULL
);
CREATE INDEX trash_users_deletion_idx ON trash_users (deletion_id);

CREATE TABLE trash_user_tags (
    deletion_id INTEGER NOT NULL REFERENCES deletions(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    tag_id      INTEGER NOT NULL
);
CREATE INDEX trash_user_tags_deletion_idx ON trash_user_tags (deletion_id);

CREATE TABLE trash_user_groups (
    deletion_id INTEGER NOT NULL REFERENCES deletions(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    group_id    INTEGER NOT NULL
);
CREATE INDEX trash_user_groups_deletion_idx ON trash_user_groups (deletion_id);

CREATE TABLE trash_devices (
    deletion_id  INTEGER NOT NULL REFERENCES deletions(id) ON DELETE CASCADE,
    id           INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    platform     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT
);
CREATE INDEX trash_devices_deletion_idx ON trash_devices (deletion_id);

CREATE TABLE trash_comments (
    deletion_id INTEGER NOT NULL REFERENCES deletions(id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    author_id   INTEGER,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX trash_comments_deletion_idx ON trash_comments (deletion_id);

CREATE TABLE trash_reminders (
    deletion_id INTEGER NOT NULL REFERENCES deletions(id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    author_id   INTEGER,
    due_at      TEXT NOT NULL,
    body        TEXT NOT NULL,
    done        BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX trash_reminders_deletion_idx ON trash_reminders (deletion_id);

CREATE TABLE trash_activities (
    deletion_id INTEGER NOT NULL REFERENCES deletions(id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    source      TEXT NOT NULL
);
CREATE INDEX trash_activities_deletion_idx ON trash_activities (deletion_id);

-- Comments are listed per user, newest first, with their author.
CREATE INDEX comments_author_idx ON comments (author_id);
