//! The server process killed (SIGKILL) in the middle of a long command: an import's
//! apply, a bulk delete of 100,000 users (a background job) and the undo of that
//! delete. After a restart each command is done in full or not at all, the import's
//! and the delete's jobs say what happened, and the database passes its integrity
//! checks. On SQLite and PostgreSQL.

use std::process::Child;
use std::time::{Duration, Instant};

use app::domain::transfer::JobState;
use app::domain::{BulkJob, BulkResult, BulkState, UserQuery};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::helpers::{
    new_client, serve_binary, spawn_app, upload_file, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// The server binary serving the test's database on a port of its own.
struct Server {
    process: Child,
    address: String,
    client: reqwest::Client,
}

impl Server {
    async fn start(app: &TestApp) -> Server {
        // Bulk actions on "all matching" answer at once with their background job.
        let (process, address) = serve_binary(
            &app.database_url,
            &[("RUST_LOG", "error"), ("ROSTER_BULK_WAIT_MS", "0")],
            false,
        )
        .await;
        let server = Server {
            process,
            address,
            client: new_client(),
        };
        let signed_in = server
            .client
            .post(format!("{}/api/sign_in", server.address))
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(signed_in.status(), StatusCode::OK, "sign in on the binary");
        server
    }

    /// Calls a server function; the future is spawned, so it runs while the test
    /// watches the database, and is still pending when the process dies.
    fn call(&self, endpoint: &str, body: Value) -> tokio::task::JoinHandle<Option<StatusCode>> {
        let request = self
            .client
            .post(format!("{}/api/{endpoint}", self.address))
            .json(&body);
        tokio::spawn(async move { request.send().await.ok().map(|r| r.status()) })
    }

    /// Calls a server function and returns its JSON answer (status 200 required).
    async fn json(&self, endpoint: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/api/{endpoint}", self.address))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{endpoint}");
        response.json().await.expect("JSON")
    }

    /// Starts a bulk action on "all matching"; returns its background job's id.
    async fn start_bulk(&self, body: Value) -> i64 {
        let started: BulkResult =
            serde_json::from_value(self.json("bulk_users", body).await).expect("a BulkResult");
        started.job.expect("a background job")
    }

    /// SIGKILL: no shutdown, no rollback, no flush.
    fn kill(mut self) {
        self.process.kill().expect("SIGKILL");
        self.process.wait().expect("the process ends");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn is_sqlite(app: &TestApp) -> bool {
    app.database_url.starts_with("sqlite")
}

/// Waits until another connection holds a write transaction that has written
/// (PostgreSQL: a backend with a transaction id; SQLite: the write lock is taken,
/// seen by a `BEGIN IMMEDIATE` that may not wait), then lets it run `more`.
async fn wait_for_writer(app: &TestApp, more: Duration) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let probe = app::backend::db::connect(&app.database_url, 1)
        .await
        .expect("a probe connection");
    let backend = probe.get_database_backend();
    if is_sqlite(app) {
        probe
            .execute_unprepared("PRAGMA busy_timeout = 0")
            .await
            .expect("no waiting");
    }
    loop {
        let writing = if is_sqlite(app) {
            match probe.execute_unprepared("BEGIN IMMEDIATE").await {
                Ok(_) => {
                    probe
                        .execute_unprepared("ROLLBACK")
                        .await
                        .expect("rollback");
                    false
                }
                Err(e) => {
                    let message = e.to_string();
                    assert!(
                        message.contains("locked") || message.contains("busy"),
                        "{message}"
                    );
                    true
                }
            }
        } else {
            let row = probe
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
                ))
                .await
                .expect("pg_stat_activity")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("a count") > 0
        };
        if writing {
            tokio::time::sleep(more).await;
            return;
        }
        assert!(Instant::now() < deadline, "no write began within 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The database's own checks, and the product's invariants that span tables: the
/// kept totals equal a count, nothing hangs off a user who is gone.
async fn assert_consistent(app: &TestApp) {
    if is_sqlite(app) {
        // On a connection of its own: the file as it is. (A pooled connection that read
        // the search index before another connection wrote checks FTS5's cached layout
        // and reports "corruption" that no query sees; queries reload it.)
        let probe = app::backend::db::connect(&app.database_url, 1)
            .await
            .expect("a probe connection");
        let rows = probe
            .query_all_raw(Statement::from_string(
                app.backend(),
                "PRAGMA integrity_check",
            ))
            .await
            .expect("integrity_check");
        let said: Vec<String> = rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).expect("text"))
            .collect();
        assert_eq!(said, vec!["ok".to_string()], "PRAGMA integrity_check");
        let dangling = probe
            .query_all_raw(Statement::from_string(
                app.backend(),
                "PRAGMA foreign_key_check",
            ))
            .await
            .expect("foreign_key_check");
        assert!(
            dangling.is_empty(),
            "{} rows break a foreign key",
            dangling.len()
        );
    } else {
        // amcheck ships with PostgreSQL: every b-tree index on the users' tables
        // matches its table.
        app.exec("CREATE EXTENSION IF NOT EXISTS amcheck", vec![])
            .await;
        let checked = app
            .scalar_i64(
                "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam \
                 WHERE a.amname = 'btree' AND i.indrelid IN \
                 ('users'::regclass, 'user_tags'::regclass, 'user_groups'::regclass, 'audit_log'::regclass)",
                vec![],
            )
            .await;
        assert!(checked > 5, "{checked} indexes checked");
    }
    for table in ["user_tags", "user_groups", "devices", "comments"] {
        let orphans = app
            .scalar_i64(
                &format!(
                    "SELECT count(*) FROM {table} t WHERE NOT EXISTS \
                     (SELECT 1 FROM users u WHERE u.id = t.user_id)"
                ),
                vec![],
            )
            .await;
        assert_eq!(orphans, 0, "{table} rows of users who are gone");
    }
    let counted = app.scalar_i64("SELECT count(*) FROM users", vec![]).await;
    assert_eq!(
        app.list(&UserQuery::default()).await.total,
        counted as u64,
        "the kept total is the count"
    );
}

/// Background bulk job `id` as the owner sees it.
async fn bulk_job(app: &TestApp, id: i64) -> BulkJob {
    let response = app
        .call(&app.client, "get_bulk_job", json!({ "id": id }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a BulkJob")
}

/// Waits until job `id` is done or failed (at most two minutes).
async fn settled_bulk_job(app: &TestApp, id: i64) -> BulkJob {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = bulk_job(app, id).await;
        if job.state != BulkState::Running {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "bulk job {id} still runs: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn users(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) FROM users", vec![]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_and_its_undo_killed_midway_are_all_or_nothing() {
    const SEEDED: u64 = 100_000;
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app::backend::seed::seed(&app.db, SEEDED, |_| {})
        .await
        .expect("seed");
    let before = users(&app).await;
    let tagged = app
        .scalar_i64("SELECT count(*) FROM user_tags", vec![])
        .await;

    // Delete every user but the owner, and kill the server while it works.
    let server = Server::start(&app).await;
    let everyone = json!({
        "selection": { "Matching": UserQuery::default() },
        "action": "Delete"
    });
    let job = server.start_bulk(everyone.clone()).await;
    wait_for_writer(&app, Duration::from_millis(300)).await;
    assert_eq!(
        bulk_job(&app, job).await.state,
        BulkState::Running,
        "the delete finished before the kill: the test proves nothing"
    );
    server.kill();

    // A SQLite file has one server: it fails the job as it starts. On PostgreSQL the
    // job stays running until its lease runs out and a server's sweep fails it.
    let server = Server::start(&app).await;
    if !is_sqlite(&app) {
        assert_eq!(bulk_job(&app, job).await.state, BulkState::Running);
        let after_lease =
            chrono::Utc::now() + app::backend::lease::LEASE + chrono::Duration::seconds(1);
        let failed = app::backend::bulk_jobs::fail_abandoned(&app.db, after_lease, false)
            .await
            .expect("the sweep");
        assert_eq!(failed, 1);
    }
    let stopped = bulk_job(&app, job).await;
    assert_eq!(stopped.state, BulkState::Failed, "{stopped:?}");
    assert_eq!(
        stopped.error.as_deref(),
        Some(app::backend::bulk_jobs::STOPPED)
    );
    assert_eq!(users(&app).await, before, "nothing was deleted");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM deletions", vec![])
            .await,
        0,
        "no deletion to undo"
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM user_tags", vec![])
            .await,
        tagged
    );
    assert_consistent(&app).await;

    // The same delete runs to the end after the restart.
    let job = server.start_bulk(everyone).await;
    let done = settled_bulk_job(&app, job).await;
    assert_eq!(done.state, BulkState::Done, "{done:?}");
    let result = done.result.expect("the outcome");
    assert_eq!(result.affected as i64, before - 1, "everyone but the owner");
    assert_eq!(users(&app).await, 1, "only the owner is left");
    let deletion = app
        .scalar_i64("SELECT max(id) FROM deletions", vec![])
        .await;

    // Its undo, killed midway, leaves the users deleted and the undo still possible.
    let undo = server.call("undo_delete", json!({ "deletion_id": deletion }));
    wait_for_writer(&app, Duration::from_millis(300)).await;
    assert!(
        !undo.is_finished(),
        "the undo finished before the kill: the test proves nothing"
    );
    server.kill();
    assert_eq!(undo.await.expect("the request task"), None);

    let server = Server::start(&app).await;
    assert_eq!(users(&app).await, 1, "no user came back halfway");
    assert_consistent(&app).await;
    let undone = server
        .call("undo_delete", json!({ "deletion_id": deletion }))
        .await
        .expect("task");
    assert_eq!(
        undone,
        Some(StatusCode::OK),
        "the undo works after the restart"
    );
    assert_eq!(users(&app).await, before, "every user is back");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM user_tags", vec![])
            .await,
        tagged
    );
    assert_consistent(&app).await;
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_while_applying_writes_nothing_and_says_so() {
    const ROWS: usize = 20_000;
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let before = users(&app).await;
    let mut csv = String::from("email,first_name,last_name,tags,groups\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "crash.{i}@import.test,Crash,Number {i},crash-tag,Crash pilots\n"
        ));
    }

    let server = Server::start(&app).await;
    let uploaded = upload_file(
        &server.client,
        &server.address,
        "crash.csv",
        csv.into_bytes(),
        true,
    )
    .await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let id = uploaded.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("the job id");
    let job = app.settle_import(&app.client, id).await;
    assert_eq!(job.state, JobState::Previewed, "{job:?}");

    let applying = server
        .call("apply_import", json!({ "id": id, "skip_invalid": false }))
        .await
        .expect("task");
    assert_eq!(
        applying,
        Some(StatusCode::OK),
        "the apply starts in the background"
    );
    wait_for_writer(&app, Duration::from_millis(300)).await;
    assert_eq!(
        app.import_job(&app.client, id).await.state,
        JobState::Applying
    );
    server.kill();

    // A SQLite file has one server: it fails the job as it starts. PostgreSQL's servers
    // share the database, so the job stays Applying until its lease runs out and any
    // server's sweep fails it (run here as of that moment).
    let server = Server::start(&app).await;
    if !is_sqlite(&app) {
        assert_eq!(
            app.import_job(&app.client, id).await.state,
            JobState::Applying
        );
        let after_lease =
            chrono::Utc::now() + app::backend::transfer::jobs::LEASE + chrono::Duration::seconds(1);
        let failed = app::backend::transfer::jobs::fail_abandoned(&app.db, after_lease, false)
            .await
            .expect("the sweep");
        assert_eq!(failed, 1);
    }
    let job = app.import_job(&app.client, id).await;
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    let error = job.error.clone().unwrap_or_default();
    assert!(error.contains("nothing was written"), "{error}");
    assert_eq!(users(&app).await, before, "no imported user exists");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM tags WHERE name = 'crash-tag'", vec![])
            .await,
        0,
        "not even the import's new tag"
    );
    assert_consistent(&app).await;
    server.kill();
}
