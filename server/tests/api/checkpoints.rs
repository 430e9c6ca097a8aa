//! SQLite's write-ahead log: with background checkpoints (the server) no commit copies
//! the log into the database file; the checkpointer does.

use app::backend::db::{self, Checkpoints};
use sea_orm::{ConnectionTrait, TransactionTrait};

/// Writes about 1,500 pages (6 MB) in 30 commits; returns the log's pages as a
/// checkpoint then finds them, and how many of them it copied.
async fn write_and_checkpoint(checkpoints: Checkpoints) -> (i64, i64) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
    let conn = db::open(&url, 2, checkpoints).await.expect("open");
    conn.execute_unprepared("CREATE TABLE t (x TEXT NOT NULL)")
        .await
        .expect("table");
    for _ in 0..30 {
        let txn = conn.begin().await.expect("begin");
        txn.execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
             INSERT INTO t (x) SELECT printf('%.1000c', 'x') FROM n",
        )
        .await
        .expect("insert");
        txn.commit().await.expect("commit");
    }
    db::checkpoint(&conn).await.expect("checkpoint")
}

#[tokio::test]
async fn with_background_checkpoints_commits_leave_the_log_to_the_checkpointer() {
    let (log, copied) = write_and_checkpoint(Checkpoints::Background).await;
    assert!(log >= 1400, "every commit stayed in the log: {log} pages");
    assert_eq!(copied, log, "the checkpoint copied the whole log");

    let (log, copied) = write_and_checkpoint(Checkpoints::Automatic).await;
    assert!(
        log < 1100,
        "SQLite's own checkpoints kept the log short: {log} pages"
    );
    assert_eq!(copied, log);
}
