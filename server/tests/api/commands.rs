//! The user lifecycle commands over HTTP: create (up to five, all or nothing), edit
//! with the version check, tags and groups, devices, comments, status, bulk actions
//! on rows and on "all matching", delete with undo, and who may do what.

use app::backend::Config;
use app::domain::{AppError, BulkResult, CreatedUser, GroupInfo, NamedRef, RoleInfo, UserQuery};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app, spawn_app_with, TestApp, TestUser, ADMIN_EMAIL};

async fn role_id(app: &TestApp, name: &str) -> i64 {
    let roles: Vec<RoleInfo> = app
        .call(&app.client, "list_roles", json!({}))
        .await
        .json()
        .await
        .expect("roles");
    roles
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("role {name}"))
        .id
}

fn form(first: &str, email: &str, username: &str, role: i64) -> Value {
    json!({
        "first_name": first, "last_name": "Tester", "email": email, "username": username,
        "phone": "", "role_id": role, "groups": [], "language": "en",
        "password_choice": "Invite", "password": ""
    })
}

async fn create(app: &TestApp, users: Vec<Value>) -> reqwest::Response {
    app.call(&app.client, "create_users", json!({ "users": users }))
        .await
}

async fn validation(
    response: reqwest::Response,
) -> std::collections::BTreeMap<String, Vec<String>> {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    match response.json::<AppError>().await.expect("an AppError") {
        AppError::Validation(fields) => fields,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(sql, vec![]).await
}

async fn bulk(app: &TestApp, selection: Value, action: Value) -> reqwest::Response {
    app.call(
        &app.client,
        "bulk_users",
        json!({ "selection": selection, "action": action }),
    )
    .await
}

fn matching(qs: &str) -> Value {
    json!({ "Matching": UserQuery::from_query_string(qs) })
}

#[tokio::test]
async fn creates_two_users_at_once_with_groups_and_audit_entries() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let mut second = form("Bo", "BO@Example.com", "", member);
    second["phone"] = json!("+46 70 123 45 67");
    second["groups"] = json!(["Pilots", "pilots", " Crew "]);
    second["password_choice"] = json!("Generate");

    let response = create(
        &app,
        vec![form("Ana", "ana@example.com", "ana", member), second],
    )
    .await;

    assert_eq!(response.status(), StatusCode::OK);
    let created: Vec<CreatedUser> = response.json().await.expect("created users");
    assert_eq!(created.len(), 2);
    assert_eq!(created[0].status.as_str(), "invited");
    assert!(created[0].temporary_password.is_none());
    assert_eq!(created[1].email, "bo@example.com", "email is lower-cased");
    assert_eq!(
        created[1].phone.as_deref(),
        Some("+46701234567"),
        "phone in E.164"
    );
    assert_eq!(created[1].groups, vec!["Pilots", "Crew"]);
    let password = created[1]
        .temporary_password
        .clone()
        .expect("a temporary password");
    assert_eq!(password.len(), 16);
    let bo = app.user_detail(created[1].id).await;
    assert!(
        bo.has_password && bo.must_change_password,
        "temporary password must be changed"
    );
    assert_eq!(bo.status.as_str(), "active");
    let groups: Vec<String> = bo.groups.iter().map(|g| g.name.clone()).collect();
    assert_eq!(groups, vec!["Crew", "Pilots"]);
    let ana = app.user_detail(created[0].id).await;
    assert!(!ana.has_password, "an invited user has no password yet");
    assert_eq!(ana.signup_source, "admin");
    assert_eq!(app.list_qs("q=tester").await.total, 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.create'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn one_bad_user_of_five_creates_none_and_names_the_row() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let mut users: Vec<Value> = (0..5)
        .map(|i| {
            form(
                &format!("U{i}"),
                &format!("u{i}@example.com"),
                &format!("user{i}"),
                member,
            )
        })
        .collect();
    users[3]["email"] = json!("not-an-email");
    users[4]["password_choice"] = json!("Set");
    users[4]["password"] = json!("short");
    let before = app.list_qs("").await.total;

    let errors = validation(create(&app, users.clone()).await).await;

    assert!(errors.contains_key("3.email"), "{errors:?}");
    assert!(errors.contains_key("4.password"), "{errors:?}");
    assert!(!errors.keys().any(|k| k.starts_with("0.")), "{errors:?}");
    assert_eq!(app.list_qs("").await.total, before, "nothing was created");

    users[3]["email"] = json!("u3@example.com");
    users[4]["password"] = json!("a-long-enough-password");
    assert_eq!(create(&app, users).await.status(), StatusCode::OK);
    assert_eq!(app.list_qs("").await.total, before + 5);
}

#[tokio::test]
async fn six_at_once_is_refused() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let users: Vec<Value> = (0..6)
        .map(|i| {
            form(
                "U",
                &format!("u{i}@example.com"),
                &format!("user{i}"),
                member,
            )
        })
        .collect();
    let errors = validation(create(&app, users).await).await;
    assert!(errors["form"][0].contains("at most 5"), "{errors:?}");
}

#[tokio::test]
async fn email_username_and_phone_must_be_unique_in_any_spelling() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let mut existing = TestUser::new("Ada", "Lovelace");
    existing.phone = Some("+46701234567".into());
    app.insert_user(existing).await;
    let mut dup = form("Ada", "ADA.LOVELACE@example.com", "ADA_LOVELACE", member);
    dup["phone"] = json!("0046 70-123 45 67");

    let errors = validation(create(&app, vec![dup]).await).await;

    for key in ["0.email", "0.username", "0.phone"] {
        assert!(errors.contains_key(key), "{key} in {errors:?}");
    }
    let twice = validation(
        create(
            &app,
            vec![
                form("A", "x@example.com", "x1", member),
                form("B", "X@example.com", "x2", member),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(twice["1.email"], vec!["Used twice in this form."]);
}

/// Formats, duplicates within the form and identities already taken come back from one
/// submit, also for a row whose other fields are wrong.
#[tokio::test]
async fn every_error_of_the_new_user_form_comes_back_at_once() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let mut taken = TestUser::new("Taken", "Already");
    taken.email = "taken@example.com".into();
    taken.username = Some("takenname".into());
    app.insert_user(taken).await;
    let mut first = form("A", "taken@example.com", "fresh1", member);
    first["phone"] = json!("12");
    let mut second = form("B", "not-an-email", "FRESH1", member);
    second["last_name"] = json!("");
    second["first_name"] = json!("");
    let third = form("C", "c@example.com", "TakenName", member);
    let errors = validation(create(&app, vec![first, second, third]).await).await;
    assert_eq!(
        errors["0.email"],
        vec!["A user with this email already exists."],
        "{errors:?}"
    );
    assert!(
        errors.contains_key("0.phone"),
        "the phone's format: {errors:?}"
    );
    assert_eq!(errors["1.username"], vec!["Used twice in this form."]);
    assert!(
        errors.contains_key("1.email"),
        "the email's format: {errors:?}"
    );
    assert!(
        errors.contains_key("1.first_name"),
        "a name is needed: {errors:?}"
    );
    assert_eq!(errors["2.username"], vec!["This username is taken."]);
    assert_eq!(errors.len(), 6, "nothing else: {errors:?}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM users WHERE email = 'c@example.com'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn the_seat_quota_refuses_creating_past_it() {
    let app = spawn_app_with(Config {
        max_users: Some(3),
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let member = role_id(&app, "member").await;

    let errors = validation(
        create(
            &app,
            vec![
                form("A", "a@example.com", "a1", member),
                form("B", "b@example.com", "b1", member),
            ],
        )
        .await,
    )
    .await;

    assert!(errors["form"][0].contains("seat quota is 3"), "{errors:?}");
    assert_eq!(
        app.list_qs("").await.total,
        2,
        "owner + Ada, nothing created"
    );
    assert_eq!(
        create(&app, vec![form("A", "a@example.com", "a1", member)])
            .await
            .status(),
        StatusCode::OK
    );
}

fn edit_form(detail: &app::domain::UserDetail) -> Value {
    json!({
        "version": detail.version, "first_name": detail.first_name, "last_name": detail.last_name,
        "username": detail.username.clone().unwrap_or_default(), "phone": detail.phone.clone().unwrap_or_default(),
        "job_title": detail.job_title, "company": detail.company, "address": detail.address,
        "language": detail.language, "role_id": detail.role.id,
        "balance": app::domain::account::amount_text(detail.balance),
        "email_opt_in": detail.email_opt_in, "note": detail.note
    })
}

async fn update(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    form: Value,
) -> reqwest::Response {
    app.call(client, "update_user", json!({ "id": id, "form": form }))
        .await
}

#[tokio::test]
async fn an_edit_saves_bumps_the_version_and_a_stale_one_is_refused() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let loaded = app.user_detail(id).await;
    assert!(loaded.email_opt_in_changed_at.is_none());

    let mut first = edit_form(&loaded);
    first["job_title"] = json!("Analyst");
    first["balance"] = json!("1,234.50");
    first["email_opt_in"] = json!(true);
    first["phone"] = json!("+44 20 7946 0958");
    assert_eq!(
        update(&app, &app.client, id, first).await.status(),
        StatusCode::OK
    );

    let saved = app.user_detail(id).await;
    assert_eq!(saved.job_title, "Analyst");
    assert_eq!(saved.balance, 123450);
    assert_eq!(saved.phone.as_deref(), Some("+442079460958"));
    assert!(saved.email_opt_in);
    assert!(
        saved.email_opt_in_changed_at.is_some(),
        "the opt-in change is timestamped"
    );
    assert_eq!(
        saved.email_opt_in_changed_by.as_deref(),
        Some(ADMIN_EMAIL),
        "and attributed"
    );
    assert_eq!(loaded.email_opt_in_changed_by, None);
    assert_eq!(saved.version, loaded.version + 1);
    assert_eq!(saved.email, loaded.email, "email is not part of the form");
    assert_eq!(
        app.list_qs("q=analyst").await.total,
        1,
        "the search index follows edits"
    );
    let after = app
        .scalar_i64(
            "SELECT count(*) FROM audit_log WHERE action = 'user.update' AND target_user_id = $1",
            vec![id.into()],
        )
        .await;
    assert_eq!(after, 1);

    // Another admin's form, loaded before that save, is refused whole.
    let mut stale = edit_form(&loaded);
    stale["company"] = json!("Babbage & Co");
    let response = update(&app, &app.client, id, stale).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        matches!(response.json::<AppError>().await.expect("error"), AppError::Conflict(m) if m.contains("changed by someone else"))
    );
    let unchanged = app.user_detail(id).await;
    assert_eq!(unchanged.company, "");
    assert_eq!(unchanged.version, saved.version);
}

#[tokio::test]
async fn an_edit_names_bad_and_taken_fields() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    app.insert_user(TestUser::new("Alan", "Turing")).await;
    let loaded = app.user_detail(id).await;
    let mut form = edit_form(&loaded);
    form["username"] = json!("ALAN_TURING");
    let errors = validation(update(&app, &app.client, id, form).await).await;
    assert_eq!(errors["username"], vec!["This username is taken."]);

    let mut form = edit_form(&loaded);
    form["balance"] = json!("lots");
    form["language"] = json!("english");
    let errors = validation(update(&app, &app.client, id, form).await).await;
    assert!(
        errors.contains_key("balance") && errors.contains_key("language"),
        "{errors:?}"
    );
    assert_eq!(
        app.user_detail(id).await.version,
        loaded.version,
        "nothing was written"
    );
}

#[tokio::test]
async fn tags_and_groups_are_set_and_created_by_name() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    app.tag(id, "old").await;

    let tags: Vec<NamedRef> = app
        .call(
            &app.client,
            "set_user_tags",
            json!({ "id": id, "names": ["VIP", "beta", "vip"] }),
        )
        .await
        .json()
        .await
        .expect("tags");
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["beta", "VIP"], "old removed, new created once");
    assert_eq!(app.list_qs("tags=vip").await.total, 1);
    assert_eq!(app.list_qs("tags=old").await.total, 0);

    let response = app
        .call(
            &app.client,
            "set_user_groups",
            json!({ "id": id, "names": ["Night shift"] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let groups: Vec<GroupInfo> = app
        .call(&app.client, "list_groups", json!({}))
        .await
        .json()
        .await
        .expect("groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (groups[0].name.as_str(), groups[0].members),
        ("Night shift", 1)
    );

    let renamed = app
        .call(
            &app.client,
            "rename_group",
            json!({ "id": groups[0].id, "name": "Nights" }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(app.user_detail(id).await.groups[0].name, "Nights");
    let created = app
        .call(&app.client, "create_group", json!({ "name": "NIGHTS" }))
        .await;
    assert!(validation(created).await["name"][0].contains("exists"));
    let deleted = app
        .call(&app.client, "delete_group", json!({ "id": groups[0].id }))
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(app.user_detail(id).await.groups.is_empty());
    assert_eq!(
        count(&app, "SELECT count(*) FROM audit_log WHERE action IN ('user.tags', 'user.groups', 'group.rename', 'group.delete')").await,
        4
    );
}

#[tokio::test]
async fn a_device_is_removed_and_comments_belong_to_their_author() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    app.exec(
        "INSERT INTO devices (user_id, name, platform, created_at) VALUES ($1, 'Pixel 8', 'Android', $2)",
        vec![id.into(), Utc::now().into()],
    )
    .await;
    let device = app.user_detail(id).await.devices[0].id;
    let removed = app
        .call(
            &app.client,
            "remove_device",
            json!({ "user_id": id, "device_id": device }),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(app.user_detail(id).await.devices.is_empty());

    let empty = app
        .call(
            &app.client,
            "add_comment",
            json!({ "user_id": id, "body": "  " }),
        )
        .await;
    assert!(validation(empty).await.contains_key("comment"));
    let added = app
        .call(
            &app.client,
            "add_comment",
            json!({ "user_id": id, "body": "Called about billing" }),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let comments: Vec<app::domain::CommentInfo> = app
        .call(&app.client, "list_comments", json!({ "user_id": id }))
        .await
        .json()
        .await
        .expect("comments");
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "Called about billing");

    // Another admin may read it but not delete it.
    app::backend::auth::create_admin(&app.db, "second@roster.test", "second-password-1")
        .await
        .expect("second admin");
    let other = new_client();
    app.sign_in(&other, "second@roster.test", "second-password-1")
        .await;
    let refused = app
        .call(&other, "delete_comment", json!({ "id": comments[0].id }))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let mine = app
        .call(
            &app.client,
            "delete_comment",
            json!({ "id": comments[0].id }),
        )
        .await;
    assert_eq!(mine.status(), StatusCode::OK);
    assert_eq!(count(&app, "SELECT count(*) FROM comments").await, 0);
}

#[tokio::test]
async fn banning_ends_the_users_sessions_and_admins_cannot_ban_themselves() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    app.exec(
        "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at) VALUES ('h1', $1, 'user', $2, $2, $3)",
        vec![id.into(), Utc::now().into(), (Utc::now() + Duration::hours(1)).into()],
    )
    .await;

    let banned = app
        .call(
            &app.client,
            "set_user_status",
            json!({ "id": id, "status": "Banned" }),
        )
        .await;

    assert_eq!(banned.status(), StatusCode::OK);
    assert_eq!(app.user_detail(id).await.status.as_str(), "banned");
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM sessions WHERE user_id = $1",
            vec![id.into()]
        )
        .await,
        0
    );
    assert_eq!(app.list_qs("status=banned").await.total, 1);
    let owner = app
        .scalar_i64(
            "SELECT id FROM users WHERE email = $1",
            vec![ADMIN_EMAIL.into()],
        )
        .await;
    let myself = app
        .call(
            &app.client,
            "set_user_status",
            json!({ "id": owner, "status": "Banned" }),
        )
        .await;
    assert!(validation(myself).await["status"][0].contains("your own"));
}

async fn seed_named(app: &TestApp, last: &str, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            app.insert_user(TestUser::new(&format!("User{i}"), last))
                .await,
        );
    }
    ids
}

#[tokio::test]
async fn bulk_actions_apply_to_checked_rows_and_to_all_matching() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let smiths = seed_named(&app, "Smithson", 30).await;
    seed_named(&app, "Jones", 10).await;

    let tagged = bulk(
        &app,
        json!({ "Ids": &smiths[..3] }),
        json!({ "AddTag": "vip" }),
    )
    .await;
    let result: BulkResult = tagged.json().await.expect("result");
    assert_eq!(result.affected, 3);
    assert_eq!(app.list_qs("tags=vip").await.total, 3);

    let all: BulkResult = bulk(&app, matching("q=smithson"), json!({ "AddTag": "family" }))
        .await
        .json()
        .await
        .expect("result");
    assert_eq!(all.affected, 30);
    assert_eq!(app.list_qs("tags=family").await.total, 30);
    assert_eq!(app.list_qs("tags=family&q=jones").await.total, 0);

    let grouped: BulkResult = bulk(&app, matching("tags=vip"), json!({ "AddToGroup": "Board" }))
        .await
        .json()
        .await
        .expect("result");
    assert_eq!(grouped.affected, 3);
    assert_eq!(count(&app, "SELECT count(*) FROM user_groups").await, 3);
    let removed: BulkResult = bulk(
        &app,
        matching("tags=vip"),
        json!({ "RemoveFromGroup": "board" }),
    )
    .await
    .json()
    .await
    .expect("result");
    assert_eq!(removed.affected, 3);
    assert_eq!(count(&app, "SELECT count(*) FROM user_groups").await, 0);
    bulk(
        &app,
        matching("q=smithson"),
        json!({ "RemoveTag": "family" }),
    )
    .await;
    assert_eq!(app.list_qs("tags=family").await.total, 0);
    let unknown = bulk(&app, matching(""), json!({ "RemoveTag": "nope" })).await;
    assert!(validation(unknown).await["tag"][0].contains("no tag named"));

    // Status and role on "all matching" leave the acting admin out.
    let viewer = role_id(&app, "viewer").await;
    let everyone: BulkResult = bulk(&app, matching(""), json!({ "SetStatus": "Banned" }))
        .await
        .json()
        .await
        .expect("result");
    assert_eq!(everyone.affected, 40);
    assert!(everyone.skipped_self);
    assert_eq!(app.list_qs("status=banned").await.total, 40);
    let roles: BulkResult = bulk(&app, matching("q=jones"), json!({ "SetRole": viewer }))
        .await
        .json()
        .await
        .expect("result");
    assert_eq!(roles.affected, 10);
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM users WHERE role_id = $1",
            vec![viewer.into()]
        )
        .await,
        10
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.status'"
        )
        .await,
        40,
        "one audit entry per user"
    );
}

#[tokio::test]
async fn a_deleted_user_comes_back_with_undo_and_is_purged_after_the_window() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    app.tag(id, "vip").await;
    app.call(
        &app.client,
        "add_comment",
        json!({ "user_id": id, "body": "Keep me" }),
    )
    .await;
    app.exec(
        "INSERT INTO activities (user_id, at, kind, name) VALUES ($1, $2, 'page_view', '/home')",
        vec![id.into(), Utc::now().into()],
    )
    .await;
    let total = app.list_qs("").await.total;

    let deletion: i64 = app
        .call(&app.client, "delete_user", json!({ "id": id }))
        .await
        .json()
        .await
        .expect("deletion id");

    assert_eq!(app.get_user(id).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.list_qs("").await.total, total - 1);
    assert_eq!(
        app.list_qs("q=lovelace").await.total,
        0,
        "gone from the search index"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.delete'"
        )
        .await,
        1
    );

    let restored: u64 = app
        .call(
            &app.client,
            "undo_delete",
            json!({ "deletion_id": deletion }),
        )
        .await
        .json()
        .await
        .expect("restored");
    assert_eq!(restored, 1);
    let back = app.user_detail(id).await;
    assert_eq!(
        back.tags
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["vip"]
    );
    assert_eq!(app.list_qs("q=lovelace").await.total, 1);
    assert_eq!(app.list_qs("").await.total, total);
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM comments WHERE user_id = $1",
            vec![id.into()]
        )
        .await,
        1
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM activities WHERE user_id = $1",
            vec![id.into()]
        )
        .await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM trash_users").await, 0);
    let twice = app
        .call(
            &app.client,
            "undo_delete",
            json!({ "deletion_id": deletion }),
        )
        .await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);

    // After the window: the purge removes the trash and undo is refused.
    let again: i64 = app
        .call(&app.client, "delete_user", json!({ "id": id }))
        .await
        .json()
        .await
        .expect("id");
    let config = Config::default();
    let purged =
        app::backend::bulk::purge_expired(&app.db, &config, Utc::now() + Duration::minutes(5))
            .await
            .expect("purge");
    assert_eq!(purged, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM trash_users").await, 0);
    assert_eq!(
        count(&app, "SELECT count(*) FROM trash_activities").await,
        0
    );
    let late = app
        .call(&app.client, "undo_delete", json!({ "deletion_id": again }))
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.delete'"
        )
        .await,
        2,
        "the audit log keeps the record"
    );
}

#[tokio::test]
async fn undo_is_refused_after_the_window_even_before_the_purge() {
    let app = spawn_app_with(Config {
        undo_window: Duration::seconds(1),
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let deletion: i64 = app
        .call(&app.client, "delete_user", json!({ "id": id }))
        .await
        .json()
        .await
        .expect("id");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let late = app
        .call(
            &app.client,
            "undo_delete",
            json!({ "deletion_id": deletion }),
        )
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(app.get_user(id).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bulk_delete_on_all_matching_is_undone_as_one() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    seed_named(&app, "Smithson", 12).await;
    seed_named(&app, "Jones", 3).await;
    let owner = app
        .scalar_i64(
            "SELECT id FROM users WHERE email = $1",
            vec![ADMIN_EMAIL.into()],
        )
        .await;

    let result: BulkResult = bulk(&app, matching(""), json!("Delete"))
        .await
        .json()
        .await
        .expect("result");

    assert_eq!(result.affected, 15, "everyone but the acting admin");
    assert!(result.skipped_self);
    assert_eq!(app.list_qs("").await.total, 1);
    assert_eq!(app.user_detail(owner).await.email, ADMIN_EMAIL);
    let restored: u64 = app
        .call(
            &app.client,
            "undo_delete",
            json!({ "deletion_id": result.deletion_id }),
        )
        .await
        .json()
        .await
        .expect("restored");
    assert_eq!(restored, 15);
    assert_eq!(app.list_qs("q=smithson").await.total, 12);
}

#[tokio::test]
async fn undo_is_refused_when_the_email_was_taken_meanwhile() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let deletion: i64 = app
        .call(&app.client, "delete_user", json!({ "id": id }))
        .await
        .json()
        .await
        .expect("id");
    assert_eq!(
        create(
            &app,
            vec![form("New", "ada.lovelace@example.com", "newada", member)]
        )
        .await
        .status(),
        StatusCode::OK
    );

    let refused = app
        .call(
            &app.client,
            "undo_delete",
            json!({ "deletion_id": deletion }),
        )
        .await;

    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.list_qs("q=lovelace").await.total,
        1,
        "only the new user"
    );
}

#[tokio::test]
async fn a_viewer_cannot_change_users_and_a_support_agent_cannot_touch_admins() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let owner = app
        .scalar_i64(
            "SELECT id FROM users WHERE email = $1",
            vec![ADMIN_EMAIL.into()],
        )
        .await;
    let member = role_id(&app, "member").await;
    let admin_role = role_id(&app, "admin").await;
    let loaded = app.user_detail(id).await;

    for (email, role) in [
        ("viewer@roster.test", "viewer"),
        ("support@roster.test", "support"),
    ] {
        app::backend::auth::create_admin(&app.db, email, "their-password-1")
            .await
            .expect("admin");
        app.exec(
            "UPDATE users SET role_id = (SELECT id FROM roles WHERE name = $1) WHERE email = $2",
            vec![role.into(), email.into()],
        )
        .await;
    }
    let viewer = new_client();
    app.sign_in(&viewer, "viewer@roster.test", "their-password-1")
        .await;
    let cases = [
        (
            "create_users",
            json!({ "users": [form("A", "a@example.com", "a1", member)] }),
        ),
        (
            "update_user",
            json!({ "id": id, "form": edit_form(&loaded) }),
        ),
        (
            "bulk_users",
            json!({ "selection": { "Ids": [id] }, "action": { "AddTag": "x" } }),
        ),
        ("set_user_status", json!({ "id": id, "status": "Banned" })),
        ("delete_user", json!({ "id": id })),
        ("set_user_tags", json!({ "id": id, "names": ["x"] })),
        ("add_comment", json!({ "user_id": id, "body": "x" })),
        ("create_group", json!({ "name": "x" })),
    ];
    for (endpoint, body) in cases {
        let response = app.call(&viewer, endpoint, body).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "viewer {endpoint}"
        );
    }
    let anonymous = new_client();
    let response = app
        .call(&anonymous, "create_users", json!({ "users": [] }))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Support edits users, but neither bans the owner nor hands out admin roles.
    let support = new_client();
    app.sign_in(&support, "support@roster.test", "their-password-1")
        .await;
    let ban_owner = app
        .call(
            &support,
            "set_user_status",
            json!({ "id": owner, "status": "Banned" }),
        )
        .await;
    assert_eq!(ban_owner.status(), StatusCode::FORBIDDEN);
    let mut promote = edit_form(&loaded);
    promote["role_id"] = json!(admin_role);
    let errors = validation(update(&app, &support, id, promote).await).await;
    assert!(
        errors["role"][0].contains("permissions yours lacks"),
        "{errors:?}"
    );
    let mut rename = edit_form(&loaded);
    rename["first_name"] = json!("Augusta");
    assert_eq!(
        update(&app, &support, id, rename).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.user_detail(id).await.first_name, "Augusta");
    assert_eq!(app.user_detail(owner).await.status.as_str(), "active");
}
