-- Roster schema, SQLite dialect. Timestamps are RFC 3339 text in UTC (what sqlx
-- writes for chrono::DateTime<Utc>), so they compare correctly as strings.

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    built_in    BOOLEAN NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE role_permissions (
    role_id    INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE users (
    id                      INTEGER PRIMARY KEY,
    email                   TEXT NOT NULL UNIQUE,
    username                TEXT,
    phone                   TEXT UNIQUE,
    first_name              TEXT NOT NULL DEFAULT '',
    last_name               TEXT NOT NULL DEFAULT '',
    job_title               TEXT NOT NULL DEFAULT '',
    company                 TEXT NOT NULL DEFAULT '',
    address                 TEXT NOT NULL DEFAULT '',
    language                TEXT NOT NULL DEFAULT 'en',
    status                  TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'banned', 'invited')),
    role_id                 INTEGER NOT NULL REFERENCES roles(id),
    balance                 BIGINT NOT NULL DEFAULT 0,
    email_opt_in            BOOLEAN NOT NULL DEFAULT 0,
    email_opt_in_changed_at TEXT,
    note                    TEXT NOT NULL DEFAULT '',
    attributes              TEXT NOT NULL DEFAULT '{}',
    password_hash           TEXT,
    must_change_password    BOOLEAN NOT NULL DEFAULT 0,
    signup_source           TEXT NOT NULL DEFAULT 'admin' CHECK (signup_source IN ('admin', 'import', 'self_signup', 'api')),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    last_access_at          TEXT,
    version                 INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_first_name_idx ON users (lower(first_name));
CREATE INDEX users_last_name_idx ON users (lower(last_name));
CREATE INDEX users_created_at_idx ON users (created_at);
CREATE INDEX users_last_access_at_idx ON users (last_access_at);
CREATE INDEX users_balance_idx ON users (balance);
CREATE INDEX users_status_idx ON users (status);
CREATE INDEX users_role_idx ON users (role_id);

-- Substring search: one trigram document per user, kept in step by triggers.
CREATE VIRTUAL TABLE users_fts USING fts5 (
    doc,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_fts (rowid, doc) VALUES (new.id,
        new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || coalesce(new.username, '') || ' '
        || coalesce(new.phone, '') || ' ' || new.company || ' ' || new.job_title);
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF first_name, last_name, email, username, phone, company, job_title ON users BEGIN
    DELETE FROM users_fts WHERE rowid = old.id;
    INSERT INTO users_fts (rowid, doc) VALUES (new.id,
        new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || coalesce(new.username, '') || ' '
        || coalesce(new.phone, '') || ' ' || new.company || ' ' || new.job_title);
END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_fts WHERE rowid = old.id;
END;

-- Totals per status, so the unfiltered count never scans a million rows.
CREATE TABLE user_counts (
    status TEXT PRIMARY KEY,
    n      BIGINT NOT NULL DEFAULT 0
);
INSERT INTO user_counts (status, n) VALUES ('active', 0), ('banned', 0), ('invited', 0);
CREATE TRIGGER user_counts_insert AFTER INSERT ON users BEGIN
    UPDATE user_counts SET n = n + 1 WHERE status = new.status;
END;
CREATE TRIGGER user_counts_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET n = n - 1 WHERE status = old.status;
END;
CREATE TRIGGER user_counts_update AFTER UPDATE OF status ON users WHEN old.status <> new.status BEGIN
    UPDATE user_counts SET n = n - 1 WHERE status = old.status;
    UPDATE user_counts SET n = n + 1 WHERE status = new.status;
END;

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tags_name_key ON tags (lower(name));

CREATE TABLE user_tags (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, tag_id)
);
CREATE INDEX user_tags_tag_idx ON user_tags (tag_id, user_id);

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE user_groups (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group_idx ON user_groups (group_id, user_id);

CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    platform     TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    last_seen_at TEXT
);
CREATE INDEX devices_user_idx ON devices (user_id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL DEFAULT 'admin' CHECK (kind IN ('admin', 'user')),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE activities (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('page_view', 'feature', 'sign_in', 'admin_change', 'manual')),
    name    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}',
    source  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX activities_user_at_idx ON activities (user_id, at);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX comments_user_idx ON comments (user_id, created_at);

CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    due_at     TEXT NOT NULL,
    body       TEXT NOT NULL,
    done       BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX reminders_user_idx ON reminders (user_id, due_at);
CREATE INDEX reminders_due_idx ON reminders (done, due_at);

-- The audit log outlives the users it mentions: no foreign keys, names copied.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    actor_id       INTEGER,
    actor_email    TEXT NOT NULL DEFAULT '',
    action         TEXT NOT NULL,
    target_user_id INTEGER,
    target_email   TEXT NOT NULL DEFAULT '',
    before         TEXT,
    after          TEXT,
    ip             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_target_idx ON audit_log (target_user_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('invitation', 'password_reset')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX tokens_user_idx ON tokens (user_id);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    to_address TEXT NOT NULL,
    language   TEXT NOT NULL DEFAULT 'en',
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at    TEXT,
    error      TEXT
);
CREATE INDEX outbox_pending_idx ON outbox (sent_at, id);

CREATE TABLE import_jobs (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    file_name   TEXT NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    state       TEXT NOT NULL CHECK (state IN ('uploaded', 'previewed', 'applying', 'applied', 'failed')),
    total_rows  BIGINT NOT NULL DEFAULT 0,
    created     BIGINT NOT NULL DEFAULT 0,
    updated     BIGINT NOT NULL DEFAULT 0,
    unchanged   BIGINT NOT NULL DEFAULT 0,
    failed      BIGINT NOT NULL DEFAULT 0,
    report      TEXT NOT NULL DEFAULT '[]',
    data        BLOB,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    key_prefix   TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

-- Per-admin UI preferences (hidden columns, ...), one JSON value per key.
CREATE TABLE preferences (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Admin-defined profile fields; values live in users.attributes (JSON).
CREATE TABLE profile_fields (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('text', 'number', 'date', 'bool', 'choice')),
    choices    TEXT NOT NULL DEFAULT '[]',
    required   BOOLEAN NOT NULL DEFAULT 0,
    searchable BOOLEAN NOT NULL DEFAULT 1,
    position   INTEGER NOT NULL DEFAULT 0,
    archived   BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
