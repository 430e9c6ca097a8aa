-- The per-status totals without one hot row. Each statement on users adds one delta
-- row per status it changed (statement-level triggers over transition tables), so a
-- bulk insert touches user_counts once per statement instead of once per row, and
-- concurrent writers never wait on each other's counter row. Readers already sum the
-- rows of a status; the server folds the deltas back into one row per status in the
-- background (`backend::users::fold_counts`).
ALTER TABLE user_counts DROP CONSTRAINT user_counts_pkey;
CREATE INDEX user_counts_status_idx ON user_counts (status);
DROP TRIGGER user_counts_insert_delete ON users;
DROP TRIGGER user_counts_update ON users;
DROP FUNCTION user_counts_track();

CREATE FUNCTION user_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts (status, n) SELECT status, count(*) FROM new_rows GROUP BY status;
    RETURN NULL;
END;
$$;
CREATE FUNCTION user_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts (status, n) SELECT status, -count(*) FROM old_rows GROUP BY status;
    RETURN NULL;
END;
$$;
CREATE FUNCTION user_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts (status, n)
    SELECT status, sum(d) FROM (
        SELECT status, 1 AS d FROM new_rows
        UNION ALL
        SELECT status, -1 AS d FROM old_rows
    ) changes GROUP BY status HAVING sum(d) <> 0;
    RETURN NULL;
END;
$$;
CREATE TRIGGER user_counts_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_inserted();
CREATE TRIGGER user_counts_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_deleted();
CREATE TRIGGER user_counts_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_updated();
