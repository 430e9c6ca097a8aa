//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::time::Duration;

use super::dialect::Run;
use super::sql::Sql;
use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

/// Runs `insert` (an `INSERT ... RETURNING id`) and gives the new row's id; `what`
/// names the row in the error when no id comes back.
pub async fn inserted_id<C: ConnectionTrait>(
    db: &C,
    insert: &Sql,
    what: &str,
) -> Result<i64, super::ServiceError> {
    Ok(db
        .one(insert)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no {what} id"))?
        .try_get("", "id")?)
}

/// Opens a pool for `url` (`sqlite://file.db?mode=rwc` or `postgres://...`). SQLite
/// runs in WAL mode with foreign keys on.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    open(url, max_connections, Checkpoints::Automatic).await
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`, waiting for it up to the busy timeout): a deferred transaction
/// that read first and wrote after another connection's commit failed at once with
/// "database is locked" (its snapshot was stale, which no waiting can mend), and 50
/// admins saving one user together got 500s. PostgreSQL ignores the mode: a plain BEGIN.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Whether `err` is the database staying busy past the waits above: SQLite's one
/// writer held longer than the busy timeout (a long bulk action or import), or no
/// pooled connection free within the acquire timeout. Nothing was written; the same
/// command can simply be tried again.
pub fn is_busy(err: &DbErr) -> bool {
    if matches!(err, DbErr::ConnectionAcquire(_)) {
        return true;
    }
    let text = err.to_string();
    text.contains("database is locked") || text.contains("(code: 5)")
}

/// Who copies SQLite's write-ahead log back into the database file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoints {
    /// SQLite's default: the connection whose commit takes the log past 1,000 pages
    /// copies it, and its command waits for that (the CLI and tools).
    Automatic,
    /// No commit waits for a copy: the caller runs [`spawn_checkpointer`] (the server).
    Background,
}

/// [`connect`], choosing who runs SQLite's checkpoints.
pub async fn open(
    url: &str,
    max_connections: u32,
    checkpoints: Checkpoints,
) -> anyhow::Result<DatabaseConnection> {
    let mut opt = ConnectOptions::new(url.to_string());
    opt.max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory");
            match checkpoints {
                Checkpoints::Automatic => o,
                Checkpoints::Background => o.pragma("wal_autocheckpoint", "0"),
            }
        })
        // Roster's statements are short lookups. PostgreSQL compiles a statement whose
        // estimated cost is high, and an estimate is easily high (a per-row count under
        // stale statistics): compiling took 9 ms of a 10 ms page of 25 rows at 1M users.
        // Every count and guard assumes each statement sees what committed before it.
        .map_sqlx_postgres_opts(|o| {
            o.options([
                ("jit", "off"),
                ("default_transaction_isolation", "read committed"),
            ])
        });
    let safe_url = url.split('@').next_back().unwrap_or(url);
    Database::connect(opt)
        .await
        .with_context(|| format!("cannot connect to the database at {safe_url}"))
}

/// Copies SQLite's write-ahead log into the database file as far as no reader still
/// needs it, without waiting for anyone (a no-op on PostgreSQL). Returns the log's
/// pages and how many of them are now in the database file.
pub async fn checkpoint(db: &DatabaseConnection) -> anyhow::Result<(i64, i64)> {
    if !db.dialect().is_sqlite() {
        return Ok((0, 0));
    }
    let row = db
        .one(Sql::new("PRAGMA wal_checkpoint(PASSIVE)"))
        .await?
        .context("wal_checkpoint returned no row")?;
    Ok((
        row.try_get_by_index::<i64>(1)?,
        row.try_get_by_index::<i64>(2)?,
    ))
}

/// Runs [`checkpoint`] every second, for a pool opened with [`Checkpoints::Background`].
pub fn spawn_checkpointer(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = checkpoint(&db).await {
                tracing::warn!(error = ?e, "checkpointing the SQLite log failed");
            }
        }
    });
}

/// Brings the planner's statistics up to date after a bulk load; a failure is logged,
/// never the load's failure (the data is committed).
/// Takes the pool, never a transaction: PostgreSQL's VACUUM cannot run inside one.
pub async fn refresh_statistics(db: &DatabaseConnection) {
    if let Err(e) = db
        .execute_unprepared(db.dialect().refresh_statistics())
        .await
    {
        tracing::warn!(error = ?e, "refreshing the planner's statistics failed");
    }
}
