DROP INDEX users_first_name_idx;
DROP INDEX users_last_name_idx;
CREATE INDEX users_first_name_idx ON users ((lower(first_name) COLLATE "C"), id) INCLUDE (first_name);
CREATE INDEX users_last_name_idx ON users ((lower(last_name) COLLATE "C"), id) INCLUDE (last_name);
