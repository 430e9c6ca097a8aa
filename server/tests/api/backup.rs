//! `server backup OUT`: a consistent, checked copy of a live SQLite database while
//! writes go on; PostgreSQL is pointed at its own tools.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::spawn_app;

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect(sql)
        .expect("a row")
        .try_get_by_index(0)
        .expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_users_are_written_is_consistent_and_restores() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("copy.db");
    if !app.database_url.starts_with("sqlite") {
        let refused = app::backend::backup::backup(&app.db, &out)
            .await
            .expect_err("PostgreSQL is backed up with its own tools");
        assert!(refused.to_string().contains("pg_dump"), "{refused}");
        assert!(!out.exists());
        return;
    }
    app::backend::seed::seed(&app.db, 500, |_| {})
        .await
        .expect("seed");
    let before = scalar(&app.db, "SELECT count(*) FROM users").await;

    // Users keep arriving, one commit each, for the whole backup.
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (app_db, stop, commits) = (app.db.clone(), stop.clone(), commits.clone());
        let role: i64 = scalar(&app.db, "SELECT id FROM roles WHERE name = 'member'").await;
        tokio::spawn(async move {
            let mut n: usize = 0;
            while !stop.load(Ordering::Relaxed) {
                app_db
                    .execute_raw(Statement::from_sql_and_values(
                        app_db.get_database_backend(),
                        "INSERT INTO users (email, first_name, last_name, status, role_id, signup_source, created_at, updated_at) \
                         VALUES ($1, 'During', 'Backup', 'active', $2, 'admin', $3, $3)",
                        [format!("during.{n}@backup.test").into(), role.into(), chrono::Utc::now().into()],
                    ))
                    .await
                    .expect("a write during the backup");
                n += 1;
                commits.store(n, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
            n
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // A backup during which at least one write committed (a quick one may fall
    // between two writes: then it is taken again).
    let mut overlapped = false;
    let mut done = None;
    for attempt in 0..5 {
        if attempt > 0 {
            std::fs::remove_file(&out).expect("the earlier copy");
        }
        let before_backup = commits.load(Ordering::SeqCst);
        done = Some(
            app::backend::backup::backup(&app.db, &out)
                .await
                .expect("backup"),
        );
        if commits.load(Ordering::SeqCst) > before_backup {
            overlapped = true;
            break;
        }
    }
    let done = done.expect("a backup");
    assert!(overlapped, "a write committed while the backup ran");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.expect("writer");
    let after = scalar(&app.db, "SELECT count(*) FROM users").await;
    assert!(written > 0, "users were written during the backup");
    assert_eq!(
        after,
        before + written as i64,
        "and the live database kept all of them"
    );

    // The copy: one instant between the first and the last write, whole.
    let copy_url = format!("sqlite://{}?mode=rwc", out.display());
    let copy = app::backend::db::connect(&copy_url, 1)
        .await
        .expect("the copy opens");
    let users = scalar(&copy, "SELECT count(*) FROM users").await;
    assert_eq!(users as u64, done.users, "the report counts the copy");
    assert!(
        users >= before && users <= after,
        "{before} <= {users} <= {after}"
    );
    let counted = scalar(&copy, "SELECT coalesce(sum(n), 0) FROM user_counts").await;
    assert_eq!(
        counted, users,
        "the totals kept by triggers match the copy's rows"
    );
    let integrity: String = copy
        .query_one_raw(Statement::from_string(
            copy.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await
        .expect("integrity_check")
        .expect("a row")
        .try_get_by_index(0)
        .expect("text");
    assert_eq!(integrity, "ok");
    // Restored: the app runs on it and lists the same users.
    server::prepare_database(&copy)
        .await
        .expect("the copy migrates");
    let page = app::backend::users::list(&copy, &app::domain::UserQuery::default(), 10_000)
        .await
        .expect("list on the copy");
    assert_eq!(page.total, users as u64);

    // The command: a second copy from the first; it never overwrites a file.
    let again = dir.path().join("again.db");
    let run = |target: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["backup", target.to_str().expect("utf-8 path")])
            .env("DATABASE_URL", &copy_url)
            .env("RUST_LOG", "error")
            .output()
            .expect("server backup")
    };
    let first = run(&again);
    assert!(first.status.success(), "{first:?}");
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(said.contains(&format!("Backed up {users} users")), "{said}");
    let second = run(&again);
    assert!(!second.status.success(), "an existing file is refused");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already exists"),
        "{second:?}"
    );
}
