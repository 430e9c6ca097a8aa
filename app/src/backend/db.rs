//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

/// Opens a pool for `url` (`sqlite://file.db?mode=rwc` or `postgres://...`). SQLite
/// runs in WAL mode with foreign keys on.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opt = ConnectOptions::new(url.to_string());
    opt.max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory")
        });
    let safe_url = url.split('@').next_back().unwrap_or(url);
    Database::connect(opt)
        .await
        .with_context(|| format!("cannot connect to the database at {safe_url}"))
}
