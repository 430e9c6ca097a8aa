//! Bulk actions on "all matching" run as background jobs: the request answers with
//! the outcome when the command is quick, else with the job, which the page follows
//! to its end. A job reports its progress run by run, fails without writing a thing,
//! is seen only by its admin, and one whose server stopped is failed with a clear
//! message. On SQLite and PostgreSQL.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::backend::transfer::Reporter;
use app::backend::{bulk, bulk_jobs, Config};
use app::domain::transfer::Progress;
use app::domain::{
    AdminInfo, BulkAction, BulkJob, BulkResult, BulkState, Selection, Status, UserQuery,
};
use reqwest::StatusCode;
use sea_orm::Value as SqlValue;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, TestUser};

/// Every "all matching" command answers at once with its job.
fn in_background() -> Config {
    Config {
        bulk_wait: Duration::ZERO,
        ..Config::default()
    }
}

async fn bulk(
    app: &TestApp,
    client: &reqwest::Client,
    qs: &str,
    action: BulkAction,
) -> reqwest::Response {
    let body = json!({
        "selection": Selection::Matching(UserQuery::from_query_string(qs)),
        "action": action,
    });
    app.call(client, "bulk_users", body).await
}

/// Starts `action` on the users `qs` matches and returns its job's id.
async fn start(app: &TestApp, qs: &str, action: BulkAction) -> i64 {
    let response = bulk(app, &app.client, qs, action).await;
    assert_eq!(response.status(), StatusCode::OK);
    let started: BulkResult = response.json().await.expect("a BulkResult");
    assert_eq!(started.affected, 0, "nothing is known before the job ends");
    started.job.expect("the command goes on as a job")
}

async fn job(app: &TestApp, client: &reqwest::Client, id: i64) -> reqwest::Response {
    app.call(client, "get_bulk_job", json!({ "id": id })).await
}

/// Follows job `id` as the page does, until it is done or failed.
async fn settled(app: &TestApp, id: i64) -> BulkJob {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = job(app, &app.client, id).await;
        assert_eq!(response.status(), StatusCode::OK);
        let job: BulkJob = response.json().await.expect("a BulkJob");
        if job.state != BulkState::Running {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} still runs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn insert_batch(app: &TestApp, n: usize) {
    for i in 0..n {
        let mut user = TestUser::new("Batch", &format!("Member{i}"));
        user.email = format!("batch{i}@example.com");
        app.insert_user(user).await;
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(sql, vec![]).await
}

#[tokio::test]
async fn all_matching_goes_on_in_the_background_and_reports_its_outcome() {
    let app = spawn_app_with(in_background()).await;
    app.sign_in_owner().await;
    insert_batch(&app, 30).await;

    let id = start(&app, "q=batch", BulkAction::AddTag("Batch tag".into())).await;
    let done = settled(&app, id).await;
    assert_eq!(done.state, BulkState::Done, "{done:?}");
    assert_eq!(done.action, BulkAction::AddTag("Batch tag".into()));
    assert_eq!(done.progress, None, "a finished job has no progress");
    assert_eq!(done.error, None);
    let result = done.result.expect("the outcome");
    assert_eq!((result.affected, result.skipped_self), (30, false));
    assert_eq!(
        count(&app, "SELECT count(*) FROM user_tags ut JOIN tags t ON t.id = ut.tag_id WHERE t.name = 'Batch tag'").await,
        30
    );
    assert_eq!(
        app.audit("user.tag_add").await.len(),
        30,
        "one entry per user"
    );

    // Only the admin who started a job follows it.
    let other = app.sign_in_as("second.owner@roster.test", "owner").await;
    let response = job(&app, &other, id).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = job(&app, &app.client, id + 1000).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A background delete can be undone once it is done: its undo window opens then.
    let id = start(&app, "q=batch", BulkAction::Delete).await;
    let done = settled(&app, id).await;
    let result = done.result.expect("the outcome");
    assert_eq!(result.affected, 30);
    let deletion = result.deletion_id.expect("a deletion to undo");
    assert_eq!(
        count(&app, "SELECT count(*) FROM users WHERE email LIKE 'batch%'").await,
        0
    );
    let undone = app
        .call(
            &app.client,
            "undo_delete",
            json!({ "deletion_id": deletion }),
        )
        .await;
    assert_eq!(undone.status(), StatusCode::OK);
    assert_eq!(
        count(&app, "SELECT count(*) FROM users WHERE email LIKE 'batch%'").await,
        30
    );

    // A ban in the background leaves the admin who started it out.
    let id = start(&app, "", BulkAction::SetStatus(Status::Banned)).await;
    let result = settled(&app, id).await.result.expect("the outcome");
    assert!(result.skipped_self);
    assert_eq!(
        count(&app, "SELECT count(*) FROM users WHERE status = 'active'").await,
        1,
        "only the owner who banned everyone else"
    );
}

#[tokio::test]
async fn a_failed_job_changes_nothing_and_says_why() {
    let app = spawn_app_with(in_background()).await;
    app.sign_in_owner().await;
    insert_batch(&app, 5).await;
    let audited = count(&app, "SELECT count(*) FROM audit_log").await;

    let id = start(&app, "", BulkAction::RemoveTag("nope".into())).await;
    let failed = settled(&app, id).await;
    assert_eq!(failed.state, BulkState::Failed, "{failed:?}");
    assert_eq!(
        failed.error.as_deref(),
        Some("There is no tag named \"nope\".")
    );
    assert_eq!(failed.result, None);
    assert_eq!(count(&app, "SELECT count(*) FROM audit_log").await, audited);

    // A name that could never be right is refused at once, without a job.
    let jobs = count(&app, "SELECT count(*) FROM bulk_jobs").await;
    let response = bulk(&app, &app.client, "", BulkAction::AddTag("   ".into())).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&app, "SELECT count(*) FROM bulk_jobs").await, jobs);

    // A viewer cannot start one, nor a delete-less admin a delete.
    let viewer = app.sign_in_as("viewer@roster.test", "viewer").await;
    let response = bulk(&app, &viewer, "", BulkAction::SetStatus(Status::Banned)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let support = app.sign_in_as("support@roster.test", "support").await;
    let response = bulk(&app, &support, "", BulkAction::Delete).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT count(*) FROM bulk_jobs").await, jobs);
    assert_eq!(
        count(&app, "SELECT count(*) FROM users WHERE status = 'banned'").await,
        0
    );
}

#[tokio::test]
async fn a_quick_command_answers_within_its_request() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    insert_batch(&app, 12).await;
    let response = bulk(
        &app,
        &app.client,
        "q=batch",
        BulkAction::AddToGroup("Quick".into()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let result: BulkResult = response.json().await.expect("a BulkResult");
    assert_eq!((result.affected, result.job), (12, None));
    // It still ran as a job, kept as done.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM bulk_jobs WHERE state = 'done' AND affected = 12"
        )
        .await,
        1
    );
    // A refusal comes back as the request's own error.
    let response = bulk(
        &app,
        &app.client,
        "",
        BulkAction::RemoveFromGroup("Nowhere".into()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.expect("body");
    assert!(text.contains("There is no group named"), "{text}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM bulk_jobs WHERE state = 'failed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn progress_is_reported_run_by_run_in_one_transaction() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app::backend::seed::seed(&app.db, 25_000, |_| {})
        .await
        .expect("seed");
    let total = count(&app, "SELECT count(*) FROM users").await as u64;
    let owner: AdminInfo = app
        .call(&app.client, "current_admin", json!({}))
        .await
        .json()
        .await
        .expect("the owner");
    let seen = Mutex::new(Vec::<Progress>::new());
    let record = |p: &Progress| seen.lock().expect("lock").push(p.clone());
    let reporter = Reporter::callback(&record);
    let result = bulk::run(
        &app.db,
        &owner,
        &Selection::Matching(UserQuery::default()),
        &BulkAction::SetStatus(Status::Banned),
        &reporter,
        None,
    )
    .await
    .expect("the ban");
    let affected = total - 1;
    assert_eq!((result.affected, result.skipped_self), (affected, true));
    let seen = seen.into_inner().expect("lock");
    let phases: Vec<(&str, u64, u64)> = seen
        .iter()
        .map(|p| (p.phase.as_str(), p.done, p.total))
        .collect();
    assert_eq!(
        phases,
        vec![
            ("Selecting users", 0, 0),
            ("Checking rights", 0, affected),
            ("Updating users", 0, affected),
            ("Updating users", 10_000, affected),
            ("Updating users", 20_000, affected),
            ("Saving", affected, affected),
        ]
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM users WHERE status = 'banned'").await as u64,
        affected
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.status'"
        )
        .await as u64,
        affected
    );
}

#[tokio::test]
async fn a_job_whose_server_stopped_is_failed_with_a_clear_message() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(crate::helpers::ADMIN_EMAIL).await;
    let created = app::backend::now();
    for lease in [
        created - chrono::Duration::seconds(5),
        created + app::backend::lease::LEASE,
    ] {
        app.exec(
            "INSERT INTO bulk_jobs (actor_id, action, state, created_at, lease_until, progress) \
             VALUES ($1, '\"Delete\"', 'running', $2, $3, '{\"phase\":\"Deleting users\",\"done\":40,\"total\":100}')",
            vec![owner.into(), SqlValue::from(created), SqlValue::from(lease)],
        )
        .await;
    }
    let stopped = count(&app, "SELECT min(id) FROM bulk_jobs").await;
    let running = count(&app, "SELECT max(id) FROM bulk_jobs").await;
    // The page shows the progress its server last wrote.
    let shown: BulkJob = job(&app, &app.client, running)
        .await
        .json()
        .await
        .expect("job");
    let progress = shown.progress.expect("progress from the database");
    assert_eq!((progress.done, progress.total), (40, 100));

    let now = app::backend::now();
    assert_eq!(
        bulk_jobs::fail_abandoned(&app.db, now, false)
            .await
            .unwrap(),
        1
    );
    let failed: BulkJob = job(&app, &app.client, stopped)
        .await
        .json()
        .await
        .expect("job");
    assert_eq!(failed.state, BulkState::Failed);
    assert_eq!(failed.error.as_deref(), Some(bulk_jobs::STOPPED));
    assert_eq!(failed.progress, None);
    let still: Value = job(&app, &app.client, running)
        .await
        .json()
        .await
        .expect("job");
    assert_eq!(still["state"], json!("Running"));
    // A SQLite file at its server's start: whatever ran was interrupted.
    assert_eq!(
        bulk_jobs::fail_abandoned(&app.db, now, true).await.unwrap(),
        1
    );
    let failed: BulkJob = job(&app, &app.client, running)
        .await
        .json()
        .await
        .expect("job");
    assert_eq!(failed.state, BulkState::Failed);
}

/// While a long command holds SQLite's one writer past the busy timeout, another write
/// answers a clear conflict to try again, never a server error. (PostgreSQL writers do
/// not wait on one lock: nothing to show there.)
#[tokio::test]
async fn a_write_that_waits_out_a_long_command_is_a_conflict_not_a_fault() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("sqlite") {
        return;
    }
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Waiting", "Writer")).await;
    // Another connection holds the write lock, as a long bulk action's transaction does.
    let holder = app::backend::db::connect(&app.database_url, 1)
        .await
        .expect("a second connection");
    sea_orm::ConnectionTrait::execute_unprepared(&holder, "BEGIN IMMEDIATE")
        .await
        .expect("the write lock");
    let started = Instant::now();
    let response = app
        .call(
            &app.client,
            "set_user_status",
            json!({ "id": id, "status": Status::Banned }),
        )
        .await;
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "it waited for the writer first"
    );
    sea_orm::ConnectionTrait::execute_unprepared(&holder, "ROLLBACK")
        .await
        .expect("release");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let text = response.text().await.expect("body");
    assert!(text.contains(app::backend::error::BUSY), "{text}");
    let detail = app.user_detail(id).await;
    assert_eq!(detail.status, Status::Active, "nothing was saved");
    // Once the writer is done, the same write goes through.
    let response = app
        .call(
            &app.client,
            "set_user_status",
            json!({ "id": id, "status": Status::Banned }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}
