//! A status change (one user, checked rows, or every matching user in the background)
//! can be undone for the undo window: the users nobody changed since get their
//! previous status back, the others keep their newer state; a late undo is refused and
//! the purge forgets the change. On SQLite and PostgreSQL.

use std::time::Duration;

use app::backend::{bulk, Config};
use app::domain::audit::AuditPage;
use app::domain::{
    AppError, BulkAction, BulkJob, BulkResult, BulkState, Selection, Status, StatusUndo, UserQuery,
};
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{edit_form, spawn_app, spawn_app_with, TestApp, TestUser};

async fn call<T: serde::de::DeserializeOwned>(app: &TestApp, endpoint: &str, body: Value) -> T {
    let response = app.call(&app.client, endpoint, body).await;
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "{endpoint}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{endpoint}: {e} in {text}"))
}

async fn undo(app: &TestApp, change: i64) -> reqwest::Response {
    app.call(
        &app.client,
        "undo_status_change",
        json!({ "change_id": change }),
    )
    .await
}

async fn status_of(app: &TestApp, id: i64) -> String {
    app.user_detail(id).await.status.as_str().to_string()
}

async fn user(app: &TestApp, first: &str, status: &'static str) -> i64 {
    let mut u = TestUser::new(first, "Undo");
    u.status = status;
    app.insert_user(u).await
}

#[tokio::test]
async fn a_bulk_ban_is_undone_for_everyone_nobody_changed_since() {
    // Arrange: two active users, one invited, one already banned.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = user(&app, "Ada", "active").await;
    let bob = user(&app, "Bob", "active").await;
    let cy = user(&app, "Cy", "invited").await;
    let dee = user(&app, "Dee", "banned").await;
    let ban: BulkResult = call(
        &app,
        "bulk_users",
        json!({
            "selection": Selection::Ids(vec![ada, bob, cy, dee]),
            "action": BulkAction::SetStatus(Status::Banned),
        }),
    )
    .await;
    assert_eq!(ban.affected, 4);
    let change = ban.status_change_id.expect("a ban can be undone");
    // Bob is edited after the ban: his newer state is kept.
    let mut form = edit_form(&app.user_detail(bob).await);
    form["job_title"] = json!("Edited since");
    let saved = app
        .call(
            &app.client,
            "update_user",
            json!({ "id": bob, "form": form }),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);

    // Act
    let response = undo(&app, change).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let undone: StatusUndo = response.json().await.expect("a StatusUndo");
    assert_eq!(
        undone,
        StatusUndo {
            restored: 2,
            kept: 1
        }
    );
    assert_eq!(status_of(&app, ada).await, "active");
    assert_eq!(status_of(&app, cy).await, "invited", "back to invited");
    assert_eq!(status_of(&app, bob).await, "banned", "edited since: kept");
    assert_eq!(status_of(&app, dee).await, "banned", "was banned before");
    // Each restored user has an audit entry naming the undo.
    let entries = app.audit("user.status").await;
    let undos: Vec<_> = entries
        .iter()
        .filter(|e| e.after.as_ref().is_some_and(|a| a["undo"] == json!(change)))
        .collect();
    assert_eq!(undos.len(), 2);
    let for_cy = undos
        .iter()
        .find(|e| e.target_user_id == Some(cy))
        .expect("cy's entry");
    assert_eq!(for_cy.before.as_ref().expect("before")["status"], "banned");
    assert_eq!(for_cy.after.as_ref().expect("after")["status"], "invited");
    // Once only.
    let again = undo(&app, change).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(matches!(
        again.json::<AppError>().await.expect("an AppError"),
        AppError::Conflict(m) if m.contains("no longer be undone")
    ));
}

#[tokio::test]
async fn one_users_status_change_answers_with_its_undo() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = user(&app, "Ada", "active").await;
    let version = app.user_detail(ada).await.version;
    let change: i64 = call(
        &app,
        "set_user_status",
        json!({ "id": ada, "status": Status::Banned }),
    )
    .await;
    assert_eq!(status_of(&app, ada).await, "banned");

    let undone: StatusUndo = undo(&app, change).await.json().await.expect("StatusUndo");

    assert_eq!(
        undone,
        StatusUndo {
            restored: 1,
            kept: 0
        }
    );
    let detail = app.user_detail(ada).await;
    assert_eq!(detail.status, Status::Active);
    assert_eq!(detail.version, version + 2, "the ban and its undo");
}

#[tokio::test]
async fn a_late_undo_is_refused_and_the_purge_forgets_the_change() {
    // Arrange: two changes, the first older than the undo window.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = user(&app, "Ada", "active").await;
    let bob = user(&app, "Bob", "active").await;
    let set = |id: i64| {
        let app = &app;
        async move {
            call::<i64>(
                app,
                "set_user_status",
                json!({ "id": id, "status": Status::Banned }),
            )
            .await
        }
    };
    let old = set(ada).await;
    let recent = set(bob).await;
    app.exec(
        "UPDATE status_changes SET created_at = $1 WHERE id = $2",
        vec![
            (Utc::now() - chrono::Duration::minutes(10)).into(),
            old.into(),
        ],
    )
    .await;

    // Act
    let late = undo(&app, old).await;
    bulk::purge_expired(&app.db, &Config::default(), Utc::now())
        .await
        .expect("purge");

    // Assert
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(status_of(&app, ada).await, "banned");
    let kept = |id: i64| {
        let app = &app;
        async move {
            app.scalar_i64(
                "SELECT count(*) FROM status_change_users WHERE change_id = $1",
                vec![id.into()],
            )
            .await
        }
    };
    assert_eq!(kept(old).await, 0, "the expired change is forgotten");
    assert_eq!(kept(recent).await, 1, "the recent one waits");
    assert_eq!(undo(&app, recent).await.status(), StatusCode::OK);
    assert_eq!(status_of(&app, bob).await, "active");
}

#[tokio::test]
async fn a_background_ban_of_all_matching_reports_its_undo() {
    let app = spawn_app_with(Config {
        bulk_wait: Duration::ZERO,
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let mut u = TestUser::new("Matching", &format!("Undo{i}"));
        u.email = format!("matching.undo{i}@example.com");
        ids.push(app.insert_user(u).await);
    }
    let started: BulkResult = call(
        &app,
        "bulk_users",
        json!({
            "selection": Selection::Matching(UserQuery::from_query_string("q=matching.undo")),
            "action": BulkAction::SetStatus(Status::Banned),
        }),
    )
    .await;
    let job = started.job.expect("a background job");
    let done = loop {
        let job: BulkJob = call(&app, "get_bulk_job", json!({ "id": job })).await;
        if job.state != BulkState::Running {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done.state, BulkState::Done, "{:?}", done.error);
    let result = done.result.expect("the outcome");
    assert_eq!(result.affected, 30);
    let change = result.status_change_id.expect("its undo");

    let undone: StatusUndo = undo(&app, change).await.json().await.expect("StatusUndo");

    assert_eq!(undone.restored, 30);
    assert_eq!(app.list_qs("q=matching.undo&status=active").await.total, 30);
}

#[tokio::test]
async fn undoing_a_ban_on_someone_above_the_actor_is_refused() {
    // The owner bans an admin; a support agent (below admins) tries to undo it.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let mut target = TestUser::new("Above", "Support");
    target.role = "admin";
    let above = app.insert_user(target).await;
    let change: i64 = call(
        &app,
        "set_user_status",
        json!({ "id": above, "status": Status::Banned }),
    )
    .await;
    let support = app.sign_in_as("support.agent@roster.test", "support").await;

    let response = app
        .call(
            &support,
            "undo_status_change",
            json!({ "change_id": change }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, above).await, "banned");
    // The owner still can.
    assert_eq!(undo(&app, change).await.status(), StatusCode::OK);
    assert_eq!(status_of(&app, above).await, "active");
}

#[tokio::test]
async fn a_user_given_a_deleted_users_id_is_not_touched_by_the_undo() {
    // SQLite hands the highest id out again once its user is gone.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let first = user(&app, "First", "active").await;
    let change: i64 = call(
        &app,
        "set_user_status",
        json!({ "id": first, "status": Status::Banned }),
    )
    .await;
    let _deletion: i64 = call(&app, "delete_user", json!({ "id": first })).await;
    app.exec("DELETE FROM trash_users", vec![]).await;
    let mut next = TestUser::new("Next", "Undo");
    next.email = "next.undo@example.com".into();
    next.status = "banned";
    next.created_at = Utc::now();
    let second = app.insert_user(next).await;
    if app.backend() == sea_orm::DatabaseBackend::Sqlite {
        assert_eq!(second, first, "SQLite gave the id out again");
    }
    // The newcomer reaches the version the change gave the first user.
    app.exec(
        "UPDATE users SET version = (SELECT version FROM status_change_users WHERE change_id = $1) WHERE id = $2",
        vec![change.into(), second.into()],
    )
    .await;

    let undone: StatusUndo = undo(&app, change).await.json().await.expect("StatusUndo");

    assert_eq!(
        undone,
        StatusUndo {
            restored: 0,
            kept: 1
        }
    );
    assert_eq!(status_of(&app, second).await, "banned");
}

#[tokio::test]
async fn the_audit_log_lists_a_ban_and_its_undo_once_per_status_given_back() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let mut ids = Vec::new();
    for (first, status) in [
        ("Ana", "active"),
        ("Ben", "active"),
        ("Cid", "invited"),
        ("Dot", "invited"),
    ] {
        ids.push(user(&app, first, status).await);
    }
    let ban: BulkResult = call(
        &app,
        "bulk_users",
        json!({
            "selection": Selection::Ids(ids.clone()),
            "action": BulkAction::SetStatus(Status::Banned),
        }),
    )
    .await;
    let undone: StatusUndo = undo(&app, ban.status_change_id.expect("undo"))
        .await
        .json()
        .await
        .expect("StatusUndo");
    assert_eq!(undone.restored, 4);

    let page: AuditPage = call(
        &app,
        "list_audit",
        json!({ "query": { "action": "user.status" } }),
    )
    .await;
    // Newest first: the two statuses given back, then the ban; each once, with its
    // users, what it set, and no one user's "before" under it.
    let listed: Vec<(Option<u64>, Vec<String>)> = page
        .entries
        .iter()
        .map(|e| {
            assert_eq!(e.before, None);
            (
                e.batch_size,
                e.changes
                    .iter()
                    .map(|c| format!("{}: {}", c.field, c.after.clone().unwrap_or_default()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let mut undos: Vec<_> = listed[..2].to_vec();
    undos.sort();
    assert_eq!(
        undos,
        [
            (Some(2), vec!["Status: active".to_string()]),
            (Some(2), vec!["Status: invited".to_string()]),
        ]
    );
    assert_eq!(listed[2], (Some(4), vec!["Status: banned".to_string()]));
}
