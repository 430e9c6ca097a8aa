//! `server backup OUT`: a consistent copy of a live SQLite database, taken while the
//! server goes on writing. `VACUUM INTO` reads the database in one read transaction
//! (a snapshot of the last commit, however many writes follow) and writes a compact,
//! self-contained file: no `-wal` beside it, nothing to replay. PostgreSQL has its own
//! tools for this (README, "Backups"); the command says so rather than copy half of it.

use std::path::Path;

use anyhow::{bail, Context};
use sea_orm::DatabaseConnection;

use super::dialect::Run;
use super::sql::Sql;

/// What a finished backup holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    /// Users in the copy.
    pub users: u64,
    /// The copy's size on disk.
    pub bytes: u64,
}

/// Writes a consistent copy of `db` (SQLite) to `out`, which must not exist yet, then
/// opens the copy and checks it (`PRAGMA integrity_check`) before reporting success.
pub async fn backup(db: &DatabaseConnection, out: &Path) -> anyhow::Result<Backup> {
    if !db.dialect().is_sqlite() {
        bail!(
            "this is a PostgreSQL database: back it up with pg_dump -Fc (nightly) or a base \
             backup with WAL archiving (point-in-time recovery); see the README, \"Backups\""
        );
    }
    if out.exists() {
        bail!(
            "{} already exists; name a new file (a backup never overwrites one)",
            out.display()
        );
    }
    let target = out
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", out.display()))?;
    let mut vacuum = Sql::new("VACUUM INTO ");
    vacuum.bind(target.to_string());
    db.exec(vacuum)
        .await
        .with_context(|| format!("writing the backup to {}", out.display()))?;
    let check = async {
        // Read-only and as the file is (no journal mode set, nothing written beside
        // it), opened by its path: a URL would read `?`, `#` or `%` in it.
        let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::new()
            .filename(out)
            .read_only(true);
        let copy = sea_orm::sqlx::SqlitePool::connect_with(options).await?;
        let verdict: String = sea_orm::sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&copy)
            .await?;
        if verdict != "ok" {
            bail!("the copy failed its integrity check: {verdict}");
        }
        let users: i64 = sea_orm::sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&copy)
            .await?;
        copy.close().await;
        anyhow::Ok(users)
    };
    let users = match check.await {
        Ok(users) => users,
        Err(e) => {
            // A copy that cannot be trusted is not left behind to be trusted later.
            let _ = std::fs::remove_file(out);
            return Err(e.context(format!("checking the backup at {}", out.display())));
        }
    };
    Ok(Backup {
        users: u64::try_from(users).unwrap_or(0),
        bytes: std::fs::metadata(out)?.len(),
    })
}
