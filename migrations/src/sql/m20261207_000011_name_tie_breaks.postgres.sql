-- Sorted by first name, equal first names by last name, then by id; the same the other
-- way round. Both names are INCLUDEd so that deep pages stay index-only scans (000009).
DROP INDEX users_first_name_idx;
DROP INDEX users_last_name_idx;
CREATE INDEX users_first_name_idx ON users ((lower(first_name) COLLATE "C"), (lower(last_name) COLLATE "C"), id) INCLUDE (first_name, last_name);
CREATE INDEX users_last_name_idx ON users ((lower(last_name) COLLATE "C"), (lower(first_name) COLLATE "C"), id) INCLUDE (first_name, last_name);
