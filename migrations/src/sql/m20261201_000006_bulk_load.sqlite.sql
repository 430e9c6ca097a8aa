-- While a transaction holds the row in bulk_load, new users get no search document and
-- no status count from the triggers (nor do updated users a new document): the loader
-- writes them all at once before it commits. See backend::bulk_load.
CREATE TABLE bulk_load (id INTEGER PRIMARY KEY CHECK (id = 1));
DROP TRIGGER users_fts_insert;
DROP TRIGGER users_fts_update;
DROP TRIGGER user_counts_insert;
CREATE TRIGGER users_fts_insert AFTER INSERT ON users WHEN NOT EXISTS (SELECT 1 FROM bulk_load) BEGIN
    INSERT INTO users_fts (rowid, doc) VALUES (new.id,
        new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || coalesce(new.username, '') || ' '
        || coalesce(new.phone, '') || ' ' || new.company || ' ' || new.job_title
        || coalesce((SELECT ' ' || group_concat(j.value, ' ') FROM json_each(new.attributes) AS j
                     JOIN profile_fields AS pf ON pf.key = j.key
                     WHERE pf.searchable AND NOT pf.archived AND pf.kind IN ('text', 'choice', 'multi_choice')), ''));
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF first_name, last_name, email, username, phone, company, job_title, attributes ON users
WHEN NOT EXISTS (SELECT 1 FROM bulk_load) BEGIN
    DELETE FROM users_fts WHERE rowid = old.id;
    INSERT INTO users_fts (rowid, doc) VALUES (new.id,
        new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || coalesce(new.username, '') || ' '
        || coalesce(new.phone, '') || ' ' || new.company || ' ' || new.job_title
        || coalesce((SELECT ' ' || group_concat(j.value, ' ') FROM json_each(new.attributes) AS j
                     JOIN profile_fields AS pf ON pf.key = j.key
                     WHERE pf.searchable AND NOT pf.archived AND pf.kind IN ('text', 'choice', 'multi_choice')), ''));
END;
CREATE TRIGGER user_counts_insert AFTER INSERT ON users WHEN NOT EXISTS (SELECT 1 FROM bulk_load) BEGIN
    UPDATE user_counts SET n = n + 1 WHERE status = new.status;
END;
