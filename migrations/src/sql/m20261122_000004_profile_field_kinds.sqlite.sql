-- SQLite cannot change a CHECK constraint in place: rebuild the (small) table.
CREATE TABLE profile_fields_new (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('text', 'number', 'date', 'bool', 'choice', 'multi_choice')),
    choices    TEXT NOT NULL DEFAULT '[]',
    required   BOOLEAN NOT NULL DEFAULT 0,
    searchable BOOLEAN NOT NULL DEFAULT 1,
    position   INTEGER NOT NULL DEFAULT 0,
    archived   BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
INSERT INTO profile_fields_new (id, key, label, kind, choices, required, searchable, position, archived, created_at)
    SELECT id, key, label, kind, choices, required, searchable, position, archived, created_at FROM profile_fields;
DROP TABLE profile_fields;
ALTER TABLE profile_fields_new RENAME TO profile_fields;
CREATE INDEX profile_fields_position_idx ON profile_fields (position, id);
