//! Integration tests: the real server on a free port with a fresh database. Runs on
//! SQLite by default and on PostgreSQL when TEST_DATABASE_URL points at a server
//! (`make integration` runs both).

mod accounts;
mod audit_log;
mod auth;
mod authority;
mod backup;
mod bulk_jobs;
mod checkpoints;
mod cli;
mod commands;
mod crashes;
mod edges;
mod fields;
mod files;
mod helpers;
mod ingest;
mod lifecycle;
mod operations;
mod permissions;
mod races;
mod roles;
mod seed;
mod servers;
mod ssr;
mod status_undo;
mod timeline;
mod transfer;
mod users;
