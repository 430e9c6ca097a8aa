-- Sorted by first name, equal first names by last name, then by id (the rowid every
-- index entry ends with); the same the other way round.
DROP INDEX users_first_name_idx;
DROP INDEX users_last_name_idx;
CREATE INDEX users_first_name_idx ON users (lower(first_name), lower(last_name));
CREATE INDEX users_last_name_idx ON users (lower(last_name), lower(first_name));
