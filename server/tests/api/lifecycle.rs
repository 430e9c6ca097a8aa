//! The user lifecycle as an admin drives it over HTTP, each outcome read back
//! through the list, the drawer or the database: creating users (batches, uniqueness
//! in any spelling, the seat quota, passwords), editing (versions, the opt-in time),
//! tags and groups by name, devices, comments, bans, bulk actions on rows and on all
//! matching, delete and undo, the audit trail, and who is refused.

use std::collections::BTreeSet;

use app::backend::Config;
use app::domain::activity::ReminderInfo;
use app::domain::{
    AppError, BulkResult, CommentInfo, CreatedUser, FieldErrors, GroupInfo, NamedRef, RoleInfo,
    UserQuery,
};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::helpers::{
    edit_form, new_client, spawn_app, spawn_app_with, TestApp, TestUser, ADMIN_EMAIL,
};

// ---- Arrange and act helpers -------------------------------------------------------

async fn post(app: &TestApp, endpoint: &str, body: Value) -> reqwest::Response {
    app.call(&app.client, endpoint, body).await
}

/// The body of a successful call; fails the test with the error otherwise.
async fn ok<T: DeserializeOwned>(what: &str, response: reqwest::Response) -> T {
    let status = response.status();
    let text = response.text().await.expect("response body");
    assert_eq!(status, StatusCode::OK, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e} in {text}"))
}

/// The `AppError` of a call that must fail with `status`.
async fn refused(what: &str, response: reqwest::Response, status: StatusCode) -> AppError {
    let got = response.status();
    let text = response.text().await.expect("response body");
    assert_eq!(got, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e} in {text}"))
}

/// The field errors of a call that must fail validation.
async fn field_errors(what: &str, response: reqwest::Response) -> FieldErrors {
    match refused(what, response, StatusCode::UNPROCESSABLE_ENTITY).await {
        AppError::Validation(fields) => fields,
        other => panic!("{what}: expected a validation error, got {other:?}"),
    }
}

fn keys(errors: &FieldErrors) -> BTreeSet<&str> {
    errors.keys().map(String::as_str).collect()
}

async fn role_id(app: &TestApp, name: &str) -> i64 {
    let roles: Vec<RoleInfo> = ok("list_roles", post(app, "list_roles", json!({})).await).await;
    roles
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no role {name}"))
        .id
}

/// A valid row of the "New user" form: an invited member at `<first>.<last>@new.test`.
fn new_user(first: &str, last: &str, role_id: i64) -> Value {
    let slug = format!("{first}.{last}").to_lowercase();
    json!({
        "first_name": first, "last_name": last, "email": format!("{slug}@new.test"),
        "username": slug.replace('.', "_"), "phone": "", "role_id": role_id, "groups": [],
        "language": "en", "password_choice": "Invite", "password": ""
    })
}

async fn create_users(app: &TestApp, users: &[Value]) -> reqwest::Response {
    post(app, "create_users", json!({ "users": users })).await
}

async fn update_user(app: &TestApp, id: i64, form: Value) -> reqwest::Response {
    post(app, "update_user", json!({ "id": id, "form": form })).await
}

async fn bulk(app: &TestApp, selection: Value, action: Value) -> reqwest::Response {
    post(
        app,
        "bulk_users",
        json!({ "selection": selection, "action": action }),
    )
    .await
}

fn ids(ids: &[i64]) -> Value {
    json!({ "Ids": ids })
}

fn matching(qs: &str) -> Value {
    let query = UserQuery::from_query_string(qs);
    json!({ "Matching": serde_json::to_value(query).expect("a UserQuery as JSON") })
}

async fn groups(app: &TestApp) -> Vec<(String, i64)> {
    let groups: Vec<GroupInfo> = ok("list_groups", post(app, "list_groups", json!({})).await).await;
    groups.into_iter().map(|g| (g.name, g.members)).collect()
}

async fn comments(app: &TestApp, user_id: i64) -> Vec<CommentInfo> {
    ok(
        "list_comments",
        post(app, "list_comments", json!({ "user_id": user_id })).await,
    )
    .await
}

async fn delete_user(app: &TestApp, id: i64) -> i64 {
    ok(
        "delete_user",
        post(app, "delete_user", json!({ "id": id })).await,
    )
    .await
}

async fn undo(app: &TestApp, deletion_id: i64) -> reqwest::Response {
    post(app, "undo_delete", json!({ "deletion_id": deletion_id })).await
}

/// Ids of every user the query string matches (at most 100), sorted.
async fn matching_ids(app: &TestApp, qs: &str) -> Vec<i64> {
    let page = app.list_qs(&format!("{qs}&per_page=100")).await;
    assert!(page.total <= 100, "{qs} matches more than one page");
    let mut ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids
}

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    app.scalar_i64(sql, vec![id.into()]).await
}

async fn add_device(app: &TestApp, user_id: i64, name: &str) {
    app.exec(
        "INSERT INTO devices (user_id, name, platform, created_at) VALUES ($1, $2, 'Android', $3)",
        vec![user_id.into(), name.into(), Utc::now().into()],
    )
    .await;
}

async fn add_activity(app: &TestApp, user_id: i64, name: &str) {
    app.exec(
        "INSERT INTO activities (user_id, at, kind, name, source) VALUES ($1, $2, 'page_view', $3, 'web')",
        vec![user_id.into(), Utc::now().into(), name.into()],
    )
    .await;
}

/// One seeded user of [`seed_people`].
struct Seeded {
    id: i64,
    last: &'static str,
    banned: bool,
}

/// `n` users: last names Smith, Jones and Brown in turn, every tenth one banned.
async fn seed_people(app: &TestApp, n: usize) -> Vec<Seeded> {
    let mut seeded = Vec::new();
    for i in 0..n {
        let last = ["Smith", "Jones", "Brown"][i % 3];
        let mut user = TestUser::new(&format!("Person{i:02}"), last);
        let banned = i % 10 == 9;
        if banned {
            user.status = "banned";
        }
        let id = app.insert_user(user).await;
        seeded.push(Seeded { id, last, banned });
    }
    seeded
}

fn ago(minutes: i64) -> DateTime<Utc> {
    (Utc::now() - Duration::minutes(minutes)).trunc_subsecs(0)
}

// ---- Creating users ------------------------------------------------------------------

#[tokio::test]
async fn creating_two_users_lists_both_creates_their_groups_and_audits_each() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(ADMIN_EMAIL).await;
    let member = role_id(&app, "member").await;
    let pilots: NamedRef = ok(
        "create_group",
        post(&app, "create_group", json!({ "name": "Pilots" })).await,
    )
    .await;
    let mut grace = new_user("Grace", "Hopper", member);
    grace["groups"] = json!(["pilots", "Night shift"]);
    grace["password_choice"] = json!("Set");
    grace["password"] = json!("correct horse battery");
    let mut alan = new_user("Alan", "Kay", member);
    alan["username"] = json!("");
    alan["phone"] = json!("+46 70 123 45 67");
    alan["groups"] = json!(["NIGHT SHIFT"]);
    alan["password_choice"] = json!("Generate");

    // Act
    let created: Vec<CreatedUser> =
        ok("create_users", create_users(&app, &[grace, alan]).await).await;

    // Assert
    assert_eq!(created.len(), 2, "{created:?}");
    assert_eq!(created[0].email, "grace.hopper@new.test");
    assert_eq!(
        created[0].groups,
        vec!["Pilots", "Night shift"],
        "an existing group is joined under its own name, a new one is created as typed"
    );
    assert_eq!(
        created[1].groups,
        vec!["Night shift"],
        "the group created for the first user is reused by the second, ignoring case"
    );
    assert_eq!(created[1].phone.as_deref(), Some("+46701234567"), "E.164");
    assert_eq!(
        created[1].username, None,
        "a login phone without a username"
    );
    assert_eq!(
        app.emails("q=new.test&sort=email").await,
        vec!["alan.kay@new.test", "grace.hopper@new.test"],
        "both are listed"
    );
    assert_eq!(
        groups(&app).await,
        vec![("Night shift".to_string(), 2), ("Pilots".to_string(), 1)],
        "groups with their member counts"
    );
    let grace = app.user_detail(created[0].id).await;
    let group_ids: Vec<i64> = grace.groups.iter().map(|g| g.id).collect();
    assert!(group_ids.contains(&pilots.id), "{:?}", grace.groups);
    assert!(grace.has_password && !grace.must_change_password);
    assert_eq!(grace.signup_source, "admin");

    let audit = app.audit("user.create").await;
    assert_eq!(audit.len(), 2, "one audit entry per created user");
    for (entry, user) in audit.iter().zip(&created) {
        assert_eq!(entry.actor_id, Some(owner), "actor of {}", user.email);
        assert_eq!(
            entry.target_user_id,
            Some(user.id),
            "target of {}",
            user.email
        );
        let after = entry.after.as_ref().expect("after");
        assert_eq!(after["email"], json!(user.email));
        assert!(entry.before.is_none(), "nothing before a create");
    }
    assert_eq!(audit[0].after.as_ref().expect("after")["password"], "set");
    assert_eq!(
        audit[1].after.as_ref().expect("after")["password"],
        "generate"
    );
    let temporary = created[1]
        .temporary_password
        .as_deref()
        .expect("a password");
    assert!(
        !format!("{:?}", audit[1].after).contains(temporary),
        "the temporary password is never written to the audit log"
    );
}

#[tokio::test]
async fn one_bad_row_of_five_creates_no_one_and_no_group() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let member = role_id(&app, "member").await;
    let mut rows: Vec<Value> = ["Anna", "Bert", "Cleo", "Dan", "Eve"]
        .iter()
        .map(|first| {
            let mut row = new_user(first, "Batch", member);
            row["groups"] = json!(["Batch"]);
            row
        })
        .collect();
    rows[2]["email"] = json!("cleo.batch@@new.test");
    let total = app.list_qs("").await.total;

    // Act: a row that fails its own checks.
    let errors = field_errors("bad email", create_users(&app, &rows).await).await;

    // Assert
    assert_eq!(keys(&errors), BTreeSet::from(["2.email"]), "{errors:?}");
    assert_eq!(app.list_qs("").await.total, total, "nobody was created");
    assert!(groups(&app).await.is_empty(), "no group was created");

    // Act: a row that only the database can refuse (username in another case).
    rows[2]["email"] = json!("cleo.batch@new.test");
    rows[4]["username"] = json!("ADA_LOVELACE");
    let errors = field_errors("taken username", create_users(&app, &rows).await).await;

    // Assert
    assert_eq!(keys(&errors), BTreeSet::from(["4.username"]), "{errors:?}");
    assert_eq!(app.list_qs("q=batch").await.total, 0, "still nobody");
    assert!(groups(&app).await.is_empty(), "still no group");
    assert!(app.audit("user.create").await.is_empty(), "nothing audited");

    // Act: every row valid.
    rows[4]["username"] = json!("eve_batch");
    let created: Vec<CreatedUser> = ok("five", create_users(&app, &rows).await).await;

    // Assert
    assert_eq!(created.len(), 5);
    assert_eq!(app.list_qs("q=batch").await.total, 5);
    assert_eq!(app.list_qs("").await.total, total + 5);
    assert_eq!(groups(&app).await, vec![("Batch".to_string(), 5)]);
}

#[tokio::test]
async fn duplicates_of_existing_users_are_found_in_any_spelling() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let mut grace = TestUser::new("Grace", "Hopper");
    grace.phone = Some("+14155550100".into());
    app.insert_user(grace).await;
    let member = role_id(&app, "member").await;
    let fine = new_user("Ada", "Byron", member);
    let mut same_email = new_user("Grace", "Two", member);
    same_email["email"] = json!("  Grace.Hopper@EXAMPLE.com ");
    let mut same_username = new_user("Grace", "Three", member);
    same_username["username"] = json!("GRACE_HOPPER");
    let mut same_phone = new_user("Grace", "Four", member);
    same_phone["phone"] = json!("001 (415) 555-0100");

    // Act
    let errors = field_errors(
        "duplicates",
        create_users(&app, &[fine.clone(), same_email, same_username, same_phone]).await,
    )
    .await;

    // Assert
    assert_eq!(
        keys(&errors),
        BTreeSet::from(["1.email", "2.username", "3.phone"]),
        "{errors:?}"
    );
    assert_eq!(
        errors["1.email"],
        vec!["A user with this email already exists."]
    );
    assert_eq!(errors["2.username"], vec!["This username is taken."]);
    assert_eq!(
        errors["3.phone"],
        vec!["This phone number belongs to another user."]
    );
    assert_eq!(
        app.list_qs("q=byron").await.total,
        0,
        "the valid row was not created either"
    );

    // Act: the same phone twice in one form, written two ways.
    let mut first = fine;
    first["phone"] = json!("+46 70 123 45 67");
    let mut second = new_user("Bo", "Byron", member);
    second["phone"] = json!("0046701234567");
    let errors = field_errors("twice", create_users(&app, &[first, second]).await).await;

    // Assert
    assert_eq!(keys(&errors), BTreeSet::from(["1.phone"]), "{errors:?}");
    assert_eq!(errors["1.phone"], vec!["Used twice in this form."]);
    assert_eq!(app.list_qs("q=byron").await.total, 0);
}

#[tokio::test]
async fn six_users_at_once_are_refused_whole() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let rows: Vec<Value> = ["A", "B", "C", "D", "E", "F"]
        .iter()
        .map(|first| new_user(first, "Six", member))
        .collect();

    // Act
    let errors = field_errors("six", create_users(&app, &rows).await).await;

    // Assert
    assert_eq!(keys(&errors), BTreeSet::from(["form"]), "{errors:?}");
    assert_eq!(errors["form"], vec!["Create at most 5 users at once."]);
    assert_eq!(app.list_qs("q=six").await.total, 0);
    assert_eq!(app.list_qs("").await.total, 1, "only the owner");
}

#[tokio::test]
async fn the_seat_quota_counts_every_user_and_the_whole_batch() {
    // Arrange: a quota of 4 with the owner and a banned user: two seats left.
    let app = spawn_app_with(Config {
        max_users: Some(4),
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let mut banned = TestUser::new("Ada", "Lovelace");
    banned.status = "banned";
    app.insert_user(banned).await;
    let member = role_id(&app, "member").await;
    let three: Vec<Value> = ["A", "B", "C"]
        .iter()
        .map(|first| new_user(first, "Seat", member))
        .collect();

    // Act
    let errors = field_errors("three of two seats", create_users(&app, &three).await).await;

    // Assert
    assert_eq!(keys(&errors), BTreeSet::from(["form"]), "{errors:?}");
    assert!(
        errors["form"][0].contains("seat quota is 4 users and 2 exist, so 2 more"),
        "{errors:?}"
    );
    assert_eq!(app.list_qs("").await.total, 2, "nobody was created");

    // Act: two fit exactly; then the quota is full.
    let created: Vec<CreatedUser> = ok("two", create_users(&app, &three[..2]).await).await;
    let full = field_errors("one more", create_users(&app, &three[2..]).await).await;

    // Assert
    assert_eq!(app.list_qs("").await.total, 4);
    assert!(full["form"][0].contains("so 0 more"), "{full:?}");

    // Act: deleting a user frees a seat.
    delete_user(&app, created[0].id).await;
    let again: Vec<CreatedUser> = ok("freed seat", create_users(&app, &three[2..]).await).await;

    // Assert
    assert_eq!(again[0].email, "c.seat@new.test");
    assert_eq!(app.list_qs("").await.total, 4);
}

#[tokio::test]
async fn a_generated_password_is_shown_once_and_an_invitation_has_none() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let member = role_id(&app, "member").await;
    let mut generated = new_user("Gen", "Erated", member);
    generated["password_choice"] = json!("Generate");
    generated["password"] = json!("ignored-for-generate");
    let invited = new_user("In", "Vited", member);
    let mut set = new_user("Set", "Typed", member);
    set["password_choice"] = json!("Set");
    set["password"] = json!("typed-by-the-admin");

    // Act
    let created: Vec<CreatedUser> = ok(
        "create",
        create_users(&app, &[generated, invited, set]).await,
    )
    .await;

    // Assert: a generated password works, is shown this once and must be changed.
    let temporary = created[0]
        .temporary_password
        .clone()
        .expect("a temporary password");
    assert_eq!(temporary.chars().count(), 16, "{temporary}");
    let app_ref = &app;
    let hash = |id: i64| async move {
        use sea_orm::ConnectionTrait;
        let row = app_ref
            .db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                app_ref.backend(),
                "SELECT password_hash FROM users WHERE id = $1",
                vec![id.into()],
            ))
            .await
            .expect("query")
            .expect("a row");
        row.try_get::<Option<String>>("", "password_hash")
            .expect("hash column")
    };
    let stored = hash(created[0].id).await.expect("a stored hash");
    assert!(
        app::backend::auth::verify_password(&stored, &temporary),
        "the shown password is the stored one"
    );
    assert!(!stored.contains(&temporary), "only a hash is stored");
    let detail = app
        .get_user(created[0].id)
        .await
        .text()
        .await
        .expect("body");
    assert!(
        !detail.contains(&temporary),
        "the drawer never shows it again"
    );
    let gen = app.user_detail(created[0].id).await;
    assert!(gen.has_password && gen.must_change_password, "{gen:?}");
    assert_eq!(gen.status.as_str(), "active");

    // An invitation: invited, no password at all.
    assert_eq!(created[1].status.as_str(), "invited");
    assert_eq!(created[1].temporary_password, None);
    assert_eq!(hash(created[1].id).await, None, "no password hash");
    let inv = app.user_detail(created[1].id).await;
    assert!(!inv.has_password && !inv.must_change_password, "{inv:?}");
    assert_eq!(
        matching_ids(&app, "status=invited").await,
        vec![created[1].id]
    );

    // A typed password: active, nothing shown, no change forced.
    assert_eq!(created[2].temporary_password, None);
    let stored = hash(created[2].id).await.expect("a stored hash");
    assert!(app::backend::auth::verify_password(
        &stored,
        "typed-by-the-admin"
    ));
    assert!(!app.user_detail(created[2].id).await.must_change_password);
}

// ---- Editing -------------------------------------------------------------------------

#[tokio::test]
async fn an_edit_saves_every_field_and_bumps_the_version_once() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(ADMIN_EMAIL).await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let support = role_id(&app, "support").await;
    let loaded = app.user_detail(id).await;
    let mut form = edit_form(&loaded);
    for (field, value) in [
        ("first_name", json!(" Augusta Ada ")),
        ("last_name", json!("King")),
        ("username", json!("ada_king")),
        ("phone", json!("+44 20 7946 0958")),
        ("job_title", json!("Analyst")),
        ("company", json!("Analytical Engines")),
        ("address", json!("12 St James's Square, London")),
        ("language", json!("en-GB")),
        ("role_id", json!(support)),
        ("balance", json!("12.30")),
        ("note", json!("Prefers email.\nCall after ten.")),
    ] {
        form[field] = value;
    }

    // Act
    let () = ok("update_user", update_user(&app, id, form.clone()).await).await;

    // Assert
    let saved = app.user_detail(id).await;
    assert_eq!(saved.first_name, "Augusta Ada", "trimmed");
    assert_eq!(saved.last_name, "King");
    assert_eq!(saved.username.as_deref(), Some("ada_king"));
    assert_eq!(saved.phone.as_deref(), Some("+442079460958"), "E.164");
    assert_eq!(saved.job_title, "Analyst");
    assert_eq!(saved.company, "Analytical Engines");
    assert_eq!(saved.address, "12 St James's Square, London");
    assert_eq!(saved.language, "en-GB");
    assert_eq!(saved.role.name, "support");
    assert_eq!(saved.balance, 1230, "12.30 in cents");
    assert_eq!(saved.note, "Prefers email.\nCall after ten.");
    assert_eq!(
        saved.email, loaded.email,
        "the email is not part of the form"
    );
    assert_eq!(saved.version, loaded.version + 1);
    let rows = app.list_qs("q=analytical").await.rows;
    assert_eq!(rows.len(), 1, "the search index follows the edit");
    assert_eq!(
        (rows[0].id, rows[0].role.as_str(), rows[0].balance),
        (id, "support", 1230)
    );
    let audit = app.audit("user.update").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].actor_id, audit[0].target_user_id),
        (Some(owner), Some(id))
    );
    let before = audit[0].before.as_ref().expect("before");
    let after = audit[0].after.as_ref().expect("after");
    assert_eq!(
        (&before["first_name"], &after["first_name"]),
        (&json!("Ada"), &json!("Augusta Ada"))
    );
    assert_eq!(
        (&before["balance"], &after["balance"]),
        (&json!(0), &json!(1230))
    );
    assert!(
        after.get("email_opt_in").is_none(),
        "only changed fields are audited: {after}"
    );

    // Act: saving the same values again (with the new version) changes nothing.
    let same = edit_form(&saved);
    let () = ok("unchanged save", update_user(&app, id, same).await).await;

    // Assert
    assert_eq!(app.user_detail(id).await.version, saved.version);
    assert_eq!(app.audit("user.update").await.len(), 1);
}

#[tokio::test]
async fn a_stale_version_is_refused_and_nothing_is_written() {
    // Arrange: two admins opened the same user; the first one saved.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let loaded = app.user_detail(id).await;
    let mut first = edit_form(&loaded);
    first["job_title"] = json!("Analyst");
    let () = ok("first save", update_user(&app, id, first).await).await;
    let saved = app.user_detail(id).await;
    let mut stale = edit_form(&loaded);
    stale["company"] = json!("Babbage & Co");
    stale["first_name"] = json!("Augusta");

    // Act
    let error = refused(
        "stale save",
        update_user(&app, id, stale).await,
        StatusCode::CONFLICT,
    )
    .await;

    // Assert
    assert!(
        matches!(&error, AppError::Conflict(m) if m.contains("ada.lovelace@example.com") && m.contains("not saved")),
        "{error:?}"
    );
    let now = app.user_detail(id).await;
    assert_eq!(now, saved, "nothing of the stale form was written");
    assert_eq!((now.first_name.as_str(), now.company.as_str()), ("Ada", ""));
    assert_eq!(now.job_title, "Analyst", "the first save stands");
    assert_eq!(app.audit("user.update").await.len(), 1, "no audit entry");

    // Act: a ban from the row menu also moves the version on.
    let _change: i64 = ok(
        "ban",
        post(
            &app,
            "set_user_status",
            json!({ "id": id, "status": "Banned" }),
        )
        .await,
    )
    .await;
    let mut after_ban = edit_form(&saved);
    after_ban["note"] = json!("Opened before the ban");
    let conflict = update_user(&app, id, after_ban.clone()).await;

    // Assert
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(app.user_detail(id).await.note, "");

    // Act: reloading and saving again works.
    let reloaded = app.user_detail(id).await;
    after_ban["version"] = json!(reloaded.version);
    let () = ok("after reload", update_user(&app, id, after_ban).await).await;

    // Assert
    let last = app.user_detail(id).await;
    assert_eq!(last.note, "Opened before the ban");
    assert_eq!(last.status.as_str(), "banned", "the edit keeps the ban");
}

#[tokio::test]
async fn the_email_stays_as_created_whatever_the_form_sends() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let loaded = app.user_detail(id).await;
    let mut form = edit_form(&loaded);
    form["email"] = json!("someone.else@example.com");
    form["job_title"] = json!("Analyst");

    // Act
    let response = update_user(&app, id, form).await;

    // Assert
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{:?}",
        response.text().await
    );
    let saved = app.user_detail(id).await;
    assert_eq!(saved.job_title, "Analyst");
    assert_eq!(saved.email, "ada.lovelace@example.com");
    assert_eq!(app.list_qs("q=someone.else").await.total, 0);
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM users WHERE email = $1",
            vec!["ada.lovelace@example.com".into()]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn opting_in_or_out_stamps_the_time_and_other_edits_keep_it() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let start = Utc::now().trunc_subsecs(0);
    let mut opt_in = edit_form(&app.user_detail(id).await);
    opt_in["email_opt_in"] = json!(true);

    // Act
    let () = ok("opt in", update_user(&app, id, opt_in).await).await;

    // Assert
    let opted = app.user_detail(id).await;
    assert!(opted.email_opt_in);
    let stamped = opted.email_opt_in_changed_at.expect("a change time");
    assert!(stamped >= start, "{stamped} is the time of the edit");
    assert_eq!(opted.email_opt_in_changed_by.as_deref(), Some(ADMIN_EMAIL));

    // Act: an edit of another field keeps the opt-in time.
    let long_ago: DateTime<Utc> = "2020-01-01T00:00:00Z".parse().expect("time");
    app.exec(
        "UPDATE users SET email_opt_in_changed_at = $1 WHERE id = $2",
        vec![long_ago.into(), id.into()],
    )
    .await;
    let mut other = edit_form(&opted);
    other["company"] = json!("Analytical Engines");
    let () = ok("other field", update_user(&app, id, other).await).await;

    // Assert
    let kept = app.user_detail(id).await;
    assert_eq!(kept.email_opt_in_changed_at, Some(long_ago));
    assert!(kept.email_opt_in);

    // Act: opting out stamps it again.
    let mut opt_out = edit_form(&kept);
    opt_out["email_opt_in"] = json!(false);
    let () = ok("opt out", update_user(&app, id, opt_out).await).await;

    // Assert
    let out = app.user_detail(id).await;
    assert!(!out.email_opt_in);
    assert!(
        out.email_opt_in_changed_at.is_some_and(|t| t >= start),
        "{:?}",
        out.email_opt_in_changed_at
    );
}

#[tokio::test]
async fn a_username_or_phone_of_another_user_is_refused_on_edit() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let mut alan = TestUser::new("Alan", "Turing");
    alan.phone = Some("+46701234567".into());
    app.insert_user(alan).await;
    let loaded = app.user_detail(id).await;
    let mut form = edit_form(&loaded);
    form["username"] = json!("ALAN_TURING");
    form["phone"] = json!("0046 70-123 45 67");
    form["job_title"] = json!("Analyst");

    // Act
    let errors = field_errors("taken", update_user(&app, id, form).await).await;

    // Assert
    assert_eq!(
        keys(&errors),
        BTreeSet::from(["phone", "username"]),
        "{errors:?}"
    );
    assert_eq!(errors["username"], vec!["This username is taken."]);
    assert_eq!(app.user_detail(id).await, loaded, "nothing was written");

    // Act: the user's own username in another case is not "taken".
    let mut own = edit_form(&loaded);
    own["username"] = json!("ADA_LOVELACE");
    let () = ok("own username", update_user(&app, id, own).await).await;

    // Assert
    assert_eq!(
        app.user_detail(id).await.username.as_deref(),
        Some("ADA_LOVELACE"),
        "kept as typed"
    );
}

// ---- Tags, groups, devices, comments -------------------------------------------------

#[tokio::test]
async fn tags_and_groups_are_created_as_typed_and_shared_ignoring_case() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    let set = |endpoint: &'static str, id: i64, names: Value| {
        let app = &app;
        async move {
            let refs: Vec<NamedRef> = ok(
                endpoint,
                post(app, endpoint, json!({ "id": id, "names": names })).await,
            )
            .await;
            refs.into_iter().map(|r| r.name).collect::<Vec<_>>()
        }
    };

    // Act
    let ada_tags = set("set_user_tags", ada, json!(["VIP", " beta ", "vip"])).await;
    let alan_tags = set("set_user_tags", alan, json!(["vip"])).await;
    set("set_user_groups", ada, json!(["Night shift", "Pilots"])).await;
    let alan_groups = set("set_user_groups", alan, json!(["night SHIFT"])).await;

    // Assert
    assert_eq!(ada_tags, vec!["beta", "VIP"], "created as typed, once");
    assert_eq!(alan_tags, vec!["VIP"], "the existing tag, not a second one");
    assert_eq!(alan_groups, vec!["Night shift"]);
    assert_eq!(matching_ids(&app, "tags=vip").await, vec![ada, alan]);
    assert_eq!(matching_ids(&app, "tags=beta").await, vec![ada]);
    let vip = app.tags().await.into_iter().find(|t| t.name == "VIP");
    assert_eq!(vip.map(|t| t.users), Some(2));
    assert_eq!(
        groups(&app).await,
        vec![("Night shift".to_string(), 2), ("Pilots".to_string(), 1)]
    );

    // Act: an empty set clears.
    let cleared = set("set_user_tags", ada, json!([])).await;
    set("set_user_groups", ada, json!([])).await;

    // Assert
    assert!(cleared.is_empty());
    assert_eq!(matching_ids(&app, "tags=vip").await, vec![alan]);
    assert_eq!(app.list_qs("tags=beta").await.total, 0);
    assert!(app.user_detail(ada).await.groups.is_empty());
    assert_eq!(
        groups(&app).await,
        vec![("Night shift".to_string(), 1), ("Pilots".to_string(), 0)],
        "groups outlive their last member"
    );
    let audit = app.audit("user.tags").await;
    assert_eq!(audit.len(), 3);
    let last = &audit[2];
    assert_eq!(last.target_user_id, Some(ada));
    assert_eq!(last.before, Some(json!({ "tags": ["beta", "VIP"] })));
    assert_eq!(last.after, Some(json!({ "tags": [] })));
    assert_eq!(app.audit("user.groups").await.len(), 3);
}

#[tokio::test]
async fn a_group_is_renamed_and_deleted_for_all_its_members() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    let crew: NamedRef = ok(
        "create",
        post(&app, "create_group", json!({ "name": "Crew" })).await,
    )
    .await;
    let twice = field_errors(
        "same name",
        post(&app, "create_group", json!({ "name": " crew " })).await,
    )
    .await;
    assert_eq!(twice["name"], vec!["A group named \"crew\" exists."]);
    let added: BulkResult = ok(
        "add to group",
        bulk(&app, ids(&[ada, alan]), json!({ "AddToGroup": "CREW" })).await,
    )
    .await;
    assert_eq!(added.affected, 2);
    assert_eq!(groups(&app).await, vec![("Crew".to_string(), 2)]);

    // Act
    let () = ok(
        "rename",
        post(
            &app,
            "rename_group",
            json!({ "id": crew.id, "name": "Cabin crew" }),
        )
        .await,
    )
    .await;

    // Assert
    for id in [ada, alan] {
        let names: Vec<String> = app
            .user_detail(id)
            .await
            .groups
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert_eq!(names, vec!["Cabin crew"], "user {id}");
    }

    // Act: another group cannot take that name.
    let pilots: NamedRef = ok(
        "create",
        post(&app, "create_group", json!({ "name": "Pilots" })).await,
    )
    .await;
    let clash = field_errors(
        "rename to a taken name",
        post(
            &app,
            "rename_group",
            json!({ "id": pilots.id, "name": "CABIN CREW" }),
        )
        .await,
    )
    .await;

    // Assert
    assert!(clash.contains_key("name"), "{clash:?}");
    assert_eq!(
        groups(&app).await,
        vec![("Cabin crew".to_string(), 2), ("Pilots".to_string(), 0)]
    );

    // Act
    let () = ok(
        "delete",
        post(&app, "delete_group", json!({ "id": crew.id })).await,
    )
    .await;

    // Assert
    assert!(app.user_detail(ada).await.groups.is_empty());
    assert!(app.user_detail(alan).await.groups.is_empty());
    assert_eq!(groups(&app).await, vec![("Pilots".to_string(), 0)]);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM user_groups", vec![])
            .await,
        0
    );
    refused(
        "delete again",
        post(&app, "delete_group", json!({ "id": crew.id })).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let renamed = app.audit("group.rename").await;
    assert_eq!(renamed.len(), 1, "the refused rename is not audited");
    assert_eq!(renamed[0].before, Some(json!({ "group": "Crew" })));
    assert_eq!(renamed[0].after, Some(json!({ "group": "Cabin crew" })));
    assert_eq!(app.audit("group.create").await.len(), 2);
    assert_eq!(app.audit("group.delete").await.len(), 1);
}

#[tokio::test]
async fn a_device_is_removed_only_from_the_user_it_belongs_to() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    add_device(&app, ada, "Pixel 8").await;
    add_device(&app, alan, "iPhone 15").await;
    let adas = app.user_detail(ada).await.devices[0].id;
    let alans = app.user_detail(alan).await.devices[0].id;

    // Act: Alan's device named under Ada.
    let wrong = post(
        &app,
        "remove_device",
        json!({ "user_id": ada, "device_id": alans }),
    )
    .await;

    // Assert
    refused("another user's device", wrong, StatusCode::NOT_FOUND).await;
    assert_eq!(app.user_detail(alan).await.devices.len(), 1);

    // Act
    let () = ok(
        "remove",
        post(
            &app,
            "remove_device",
            json!({ "user_id": ada, "device_id": adas }),
        )
        .await,
    )
    .await;

    // Assert
    assert!(app.user_detail(ada).await.devices.is_empty());
    let rows = app.list_qs("q=lovelace").await.rows;
    assert_eq!(rows[0].devices, 0, "the table's device count follows");
    assert_eq!(app.user_detail(alan).await.devices.len(), 1);
    let audit = app.audit("user.device_remove").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].target_user_id, Some(ada));
    assert_eq!(
        audit[0].before,
        Some(json!({ "name": "Pixel 8", "platform": "Android" }))
    );
}

#[tokio::test]
async fn comments_are_listed_newest_first_and_only_their_author_deletes_them() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(ADMIN_EMAIL).await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let second = app.sign_in_as("second@roster.test", "admin").await;
    let second_id = app.user_id("second@roster.test").await;
    for body in ["First call", "Second call"] {
        let () = ok(
            "owner comment",
            post(&app, "add_comment", json!({ "user_id": ada, "body": body })).await,
        )
        .await;
    }
    let () = ok(
        "second admin's comment",
        app.call(
            &second,
            "add_comment",
            json!({ "user_id": ada, "body": "  From the second admin  " }),
        )
        .await,
    )
    .await;

    // Act
    let listed = comments(&app, ada).await;

    // Assert
    let bodies: Vec<&str> = listed.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        bodies,
        vec!["From the second admin", "Second call", "First call"],
        "newest first, trimmed"
    );
    assert_eq!(listed[0].author_id, Some(second_id));
    assert_eq!(listed[2].author_id, Some(owner));
    assert!(!listed[0].author.is_empty());

    // Act: the second admin tries the owner's comment.
    let refusal = app
        .call(&second, "delete_comment", json!({ "id": listed[2].id }))
        .await;

    // Assert
    assert!(matches!(
        refused("another admin's comment", refusal, StatusCode::FORBIDDEN).await,
        AppError::Forbidden(_)
    ));
    assert_eq!(comments(&app, ada).await.len(), 3, "still there");

    // Act: each deletes their own.
    let () = ok(
        "own comment",
        app.call(&second, "delete_comment", json!({ "id": listed[0].id }))
            .await,
    )
    .await;
    let () = ok(
        "own comment",
        post(&app, "delete_comment", json!({ "id": listed[1].id })).await,
    )
    .await;

    // Assert
    let left: Vec<String> = comments(&app, ada)
        .await
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(left, vec!["First call"]);
    assert_eq!(app.audit("user.comment_add").await.len(), 3);
    let deleted = app.audit("user.comment_delete").await;
    assert_eq!(deleted.len(), 2, "the refused delete is not audited");
    assert_eq!(deleted[0].actor_id, Some(second_id));
    assert_eq!(
        deleted[0].before,
        Some(json!({ "comment": "From the second admin" }))
    );
    refused(
        "comments of a missing user",
        post(&app, "list_comments", json!({ "user_id": ada + 1000 })).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

// ---- Status --------------------------------------------------------------------------

#[tokio::test]
async fn a_ban_ends_that_users_sessions_and_their_access_at_once() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let second = app.sign_in_as("second@roster.test", "admin").await;
    let second_id = app.user_id("second@roster.test").await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    app.exec(
        "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at) \
         VALUES ('ada-session', $1, 'user', $2, $2, $3)",
        vec![
            ada.into(),
            Utc::now().into(),
            (Utc::now() + Duration::hours(1)).into(),
        ],
    )
    .await;
    let sessions = "SELECT count(*) FROM sessions WHERE user_id = $1";
    assert_eq!(count(&app, sessions, second_id).await, 1);
    assert_eq!(
        app.call(&second, "list_groups", json!({})).await.status(),
        StatusCode::OK
    );

    // Act
    let _change: i64 = ok(
        "ban an admin",
        post(
            &app,
            "set_user_status",
            json!({ "id": second_id, "status": "Banned" }),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(count(&app, sessions, second_id).await, 0);
    assert_eq!(
        app.call(&second, "list_groups", json!({})).await.status(),
        StatusCode::UNAUTHORIZED,
        "the banned admin is out on their next request"
    );
    assert_eq!(count(&app, sessions, ada).await, 1, "other sessions stay");
    assert_eq!(
        app.list_qs("").await.total,
        3,
        "the owner is still signed in"
    );

    // Act
    let _change: i64 = ok(
        "ban a user",
        post(
            &app,
            "set_user_status",
            json!({ "id": ada, "status": "Banned" }),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(count(&app, sessions, ada).await, 0);
    assert_eq!(
        matching_ids(&app, "status=banned").await,
        vec![second_id, ada]
    );
    assert_eq!(app.list_qs("status=active").await.total, 1);
    let audit = app.audit("user.status").await;
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].target_user_id, Some(ada));
    assert_eq!(audit[1].before, Some(json!({ "status": "active" })));
    assert_eq!(audit[1].after, Some(json!({ "status": "banned" })));

    // Act: lifting the ban does not bring the old session back.
    let _change: i64 = ok(
        "unban",
        post(
            &app,
            "set_user_status",
            json!({ "id": second_id, "status": "Active" }),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(
        app.call(&second, "list_groups", json!({})).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(matching_ids(&app, "status=banned").await, vec![ada]);
}

// ---- Bulk actions --------------------------------------------------------------------

#[tokio::test]
async fn bulk_actions_on_checked_rows_touch_only_those_rows_and_never_the_actor() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(ADMIN_EMAIL).await;
    let people = seed_people(&app, 50).await;
    let active: Vec<i64> = people.iter().filter(|p| !p.banned).map(|p| p.id).collect();
    let checked = &active[10..15];
    let mut with_owner = checked.to_vec();
    with_owner.extend([owner, 999_999]);
    let banned_before = app.list_qs("status=banned").await.total;

    // Act
    let banned: BulkResult = ok(
        "ban checked",
        bulk(&app, ids(&with_owner), json!({ "SetStatus": "Banned" })).await,
    )
    .await;

    // Assert
    assert_eq!(
        banned.affected, 5,
        "unknown ids are ignored, the owner spared"
    );
    assert!(banned.skipped_self);
    assert_eq!(banned.deletion_id, None);
    assert_eq!(app.list_qs("status=banned").await.total, banned_before + 5);
    assert_eq!(app.user_detail(owner).await.status.as_str(), "active");
    let mut targets: Vec<i64> = app
        .audit("user.status")
        .await
        .iter()
        .filter_map(|e| e.target_user_id)
        .collect();
    targets.sort_unstable();
    assert_eq!(targets, checked, "one audit entry per banned user");

    // Act: tags are not a lock-out, so the actor's own row is tagged too.
    let tagged: BulkResult = ok(
        "tag checked",
        bulk(&app, ids(&with_owner), json!({ "AddTag": "vip" })).await,
    )
    .await;

    // Assert
    assert_eq!((tagged.affected, tagged.skipped_self), (6, false));
    let mut want = with_owner[..6].to_vec();
    want.sort_unstable();
    assert_eq!(matching_ids(&app, "tags=vip").await, want);

    // Act: a role change for the checked rows and the owner.
    let viewer = role_id(&app, "viewer").await;
    let roles: BulkResult = ok(
        "set role",
        bulk(&app, ids(&with_owner), json!({ "SetRole": viewer })).await,
    )
    .await;

    // Assert
    assert_eq!((roles.affected, roles.skipped_self), (5, true));
    assert_eq!(
        app.user_detail(owner).await.role.name,
        "owner",
        "not demoted"
    );
    for id in checked {
        assert_eq!(app.user_detail(*id).await.role.name, "viewer");
    }

    // Act: the single-user commands name the refusal instead.
    let own_ban = field_errors(
        "ban myself",
        post(
            &app,
            "set_user_status",
            json!({ "id": owner, "status": "Banned" }),
        )
        .await,
    )
    .await;
    let own_delete = field_errors(
        "delete myself",
        post(&app, "delete_user", json!({ "id": owner })).await,
    )
    .await;

    // Assert
    assert_eq!(
        own_ban["status"],
        vec!["You cannot change your own status."]
    );
    assert_eq!(
        own_delete["delete"],
        vec!["You cannot delete your own account."]
    );
    assert_eq!(app.user_detail(owner).await.status.as_str(), "active");
}

#[tokio::test]
async fn bulk_actions_on_all_matching_follow_the_filters_not_the_page() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(ADMIN_EMAIL).await;
    let people = seed_people(&app, 50).await;
    let active_smiths: Vec<i64> = people
        .iter()
        .filter(|p| p.last == "Smith" && !p.banned)
        .map(|p| p.id)
        .collect();
    assert!(active_smiths.len() > 10, "more than the page below holds");

    // Act: the query of page 2 of 10 rows sorted by email.
    let tagged: BulkResult = ok(
        "tag matching",
        bulk(
            &app,
            matching("q=smith&status=active&sort=email&per_page=10&page=2"),
            json!({ "AddTag": "smiths" }),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(tagged.affected, active_smiths.len() as u64);
    assert_eq!(matching_ids(&app, "tags=smiths").await, active_smiths);
    assert_eq!(
        app.list_qs("tags=smiths&status=banned").await.total,
        0,
        "banned Smiths were filtered out"
    );
    assert_eq!(
        app.audit("user.tag_add").await.len(),
        active_smiths.len(),
        "one audit entry per user"
    );

    // Act: group and role for everyone tagged.
    let grouped: BulkResult = ok(
        "group matching",
        bulk(
            &app,
            matching("tags=smiths"),
            json!({ "AddToGroup": "Smiths" }),
        )
        .await,
    )
    .await;
    let viewer = role_id(&app, "viewer").await;
    let roles: BulkResult = ok(
        "role matching",
        bulk(&app, matching("tags=SMITHS"), json!({ "SetRole": viewer })).await,
    )
    .await;

    // Assert
    assert_eq!(grouped.affected, active_smiths.len() as u64);
    assert_eq!(
        groups(&app).await,
        vec![("Smiths".to_string(), active_smiths.len() as i64)]
    );
    assert_eq!(roles.affected, active_smiths.len() as u64);
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM users WHERE role_id = $1",
            vec![viewer.into()]
        )
        .await,
        active_smiths.len() as i64
    );

    // Act: the tag and the group off everyone.
    ok::<BulkResult>(
        "untag all",
        bulk(&app, matching(""), json!({ "RemoveTag": "SMITHS" })).await,
    )
    .await;
    ok::<BulkResult>(
        "ungroup all",
        bulk(&app, matching(""), json!({ "RemoveFromGroup": "smiths" })).await,
    )
    .await;

    // Assert
    assert_eq!(app.list_qs("tags=smiths").await.total, 0);
    assert_eq!(groups(&app).await, vec![("Smiths".to_string(), 0)]);

    // Act: ban everyone matching no filter at all.
    let everyone: BulkResult = ok(
        "ban all",
        bulk(&app, matching(""), json!({ "SetStatus": "Banned" })).await,
    )
    .await;

    // Assert
    assert_eq!(everyone.affected, 50, "everyone but the actor");
    assert!(everyone.skipped_self);
    assert_eq!(app.list_qs("status=banned").await.total, 50);
    assert_eq!(matching_ids(&app, "status=active").await, vec![owner]);
    assert_eq!(app.list_qs("").await.total, 51);
}

// ---- Delete and undo -----------------------------------------------------------------

#[tokio::test]
async fn a_deleted_user_comes_back_whole_on_undo() {
    // Arrange: Ada with a tag, a group, a device, a comment, a reminder and activity.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    for id in [ada, alan] {
        app.tag(id, "vip").await;
    }
    ok::<Vec<NamedRef>>(
        "group",
        post(
            &app,
            "set_user_groups",
            json!({ "id": ada, "names": ["Pilots"] }),
        )
        .await,
    )
    .await;
    add_device(&app, ada, "Pixel 8").await;
    add_activity(&app, ada, "/billing").await;
    ok::<()>(
        "comment",
        post(
            &app,
            "add_comment",
            json!({ "user_id": ada, "body": "Keep me" }),
        )
        .await,
    )
    .await;
    let due = (Utc::now() + Duration::days(1)).timestamp();
    ok::<()>(
        "reminder",
        post(
            &app,
            "add_reminder",
            json!({ "user_id": ada, "due_at": due, "body": "Call back" }),
        )
        .await,
    )
    .await;
    let reminders = || {
        let response = app.call(&app.client, "user_reminders", json!({ "user_id": ada }));
        async move { ok::<Vec<ReminderInfo>>("reminders", response.await).await }
    };
    let detail = app.user_detail(ada).await;
    let comments_before = comments(&app, ada).await;
    let reminders_before = reminders().await;
    let total = app.list_qs("").await.total;
    let activities = "SELECT count(*) FROM activities WHERE user_id = $1";

    // Act
    let deletion = delete_user(&app, ada).await;

    // Assert: gone everywhere.
    refused(
        "deleted user",
        app.get_user(ada).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.list_qs("").await.total, total - 1);
    assert_eq!(app.list_qs("q=lovelace").await.total, 0);
    assert_eq!(matching_ids(&app, "tags=vip").await, vec![alan]);
    assert_eq!(groups(&app).await, vec![("Pilots".to_string(), 0)]);
    assert_eq!(count(&app, activities, ada).await, 0);
    let deleted = app.audit("user.delete").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].target_user_id, Some(ada));
    assert_eq!(
        deleted[0].before.as_ref().expect("snapshot")["email"],
        "ada.lovelace@example.com"
    );

    // Act
    let restored: u64 = ok("undo", undo(&app, deletion).await).await;

    // Assert: back with the same id and everything that was hers.
    assert_eq!(restored, 1);
    assert_eq!(app.user_detail(ada).await, detail);
    assert_eq!(comments(&app, ada).await, comments_before);
    assert_eq!(reminders().await, reminders_before);
    assert_eq!(count(&app, activities, ada).await, 1);
    assert_eq!(app.list_qs("").await.total, total);
    assert_eq!(app.list_qs("q=lovelace").await.total, 1, "searchable again");
    assert_eq!(matching_ids(&app, "tags=vip").await, vec![ada, alan]);
    assert_eq!(groups(&app).await, vec![("Pilots".to_string(), 1)]);
    let restore = app.audit("user.restore").await;
    assert_eq!(restore.len(), 1);
    assert_eq!(restore[0].target_user_id, Some(ada));
    refused(
        "undo twice",
        undo(&app, deletion).await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn undo_after_the_window_is_refused_and_the_purge_forgets_only_expired_trash() {
    // Arrange: two deletes, the first one older than the undo window.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    add_device(&app, ada, "Pixel 8").await;
    let old = delete_user(&app, ada).await;
    let recent = delete_user(&app, alan).await;
    app.exec(
        "UPDATE deletions SET created_at = $1 WHERE id = $2",
        vec![ago(10).into(), old.into()],
    )
    .await;

    // Act
    let late = undo(&app, old).await;

    // Assert: refused even before the purge ran.
    assert!(matches!(
        refused("late undo", late, StatusCode::CONFLICT).await,
        AppError::Conflict(m) if m.contains("no longer be undone")
    ));
    refused(
        "still deleted",
        app.get_user(ada).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Act
    let purged = app::backend::bulk::purge_expired(&app.db, &Config::default(), Utc::now())
        .await
        .expect("purge");

    // Assert
    assert_eq!(purged, 1, "only the expired delete");
    let trash = "SELECT count(*) FROM trash_users WHERE deletion_id = $1";
    assert_eq!(count(&app, trash, old).await, 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM trash_devices WHERE deletion_id = $1",
            old
        )
        .await,
        0
    );
    assert_eq!(count(&app, trash, recent).await, 1, "the recent one waits");
    let restored: u64 = ok("recent undo", undo(&app, recent).await).await;
    assert_eq!(restored, 1);
    assert_eq!(app.user_detail(alan).await.email, "alan.turing@example.com");
    refused("purged undo", undo(&app, old).await, StatusCode::CONFLICT).await;
    assert_eq!(
        app.audit("user.delete").await.len(),
        2,
        "the audit log keeps both deletes"
    );
}

#[tokio::test]
async fn a_bulk_delete_of_all_matching_is_undone_whole() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(ADMIN_EMAIL).await;
    let people = seed_people(&app, 50).await;
    let smiths: Vec<i64> = people
        .iter()
        .filter(|p| p.last == "Smith")
        .map(|p| p.id)
        .collect();
    ok::<BulkResult>(
        "tag",
        bulk(&app, ids(&smiths[..4]), json!({ "AddTag": "family" })).await,
    )
    .await;
    let everyone = matching_ids(&app, "").await;
    let (active, banned) = (
        app.list_qs("status=active").await.total,
        app.list_qs("status=banned").await.total,
    );

    // Act
    let deleted: BulkResult = ok(
        "delete matching",
        bulk(&app, matching("q=smith"), json!("Delete")).await,
    )
    .await;

    // Assert
    assert_eq!(deleted.affected, smiths.len() as u64);
    assert!(!deleted.skipped_self, "the owner did not match");
    assert_eq!(app.list_qs("q=smith").await.total, 0);
    assert_eq!(app.list_qs("").await.total, 51 - smiths.len() as u64);
    assert_eq!(app.list_qs("tags=family").await.total, 0);
    assert_eq!(app.audit("user.delete").await.len(), smiths.len());

    // Act
    let deletion = deleted.deletion_id.expect("a deletion id");
    let restored: u64 = ok("undo", undo(&app, deletion).await).await;

    // Assert
    assert_eq!(restored, smiths.len() as u64);
    assert_eq!(
        matching_ids(&app, "").await,
        everyone,
        "the same ids are back"
    );
    assert_eq!(app.list_qs("status=active").await.total, active);
    assert_eq!(app.list_qs("status=banned").await.total, banned);
    assert_eq!(
        matching_ids(&app, "tags=family").await,
        smiths[..4].to_vec()
    );

    // Act: everyone matching no filter.
    let all: BulkResult = ok(
        "delete all",
        bulk(&app, matching(""), json!("Delete")).await,
    )
    .await;

    // Assert
    assert_eq!((all.affected, all.skipped_self), (50, true));
    assert_eq!(matching_ids(&app, "").await, vec![owner], "the actor stays");
    let restored: u64 = ok(
        "undo all",
        undo(&app, all.deletion_id.expect("a deletion id")).await,
    )
    .await;
    assert_eq!(restored, 50);
    assert_eq!(matching_ids(&app, "").await, everyone);
}

#[tokio::test]
async fn undo_brings_rows_back_even_when_newer_rows_took_their_ids() {
    // Arrange: Ada owns the newest device, comment, reminder and activity; after her
    // delete, Alan gets new ones.
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let due = (Utc::now() + Duration::days(1)).timestamp();
    let give = |user: i64, text: &'static str| {
        let app = &app;
        async move {
            add_device(app, user, text).await;
            add_activity(app, user, text).await;
            ok::<()>(
                "comment",
                post(app, "add_comment", json!({ "user_id": user, "body": text })).await,
            )
            .await;
            ok::<()>(
                "reminder",
                post(
                    app,
                    "add_reminder",
                    json!({ "user_id": user, "due_at": due, "body": text }),
                )
                .await,
            )
            .await;
        }
    };
    give(ada, "Ada's").await;
    let deletion = delete_user(&app, ada).await;
    give(alan, "Alan's").await;

    // Act
    let restored: u64 = ok("undo", undo(&app, deletion).await).await;

    // Assert
    assert_eq!(restored, 1);
    for table in ["devices", "activities", "comments", "reminders"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE user_id = $1");
        assert_eq!(count(&app, &sql, ada).await, 1, "Ada's {table}");
        assert_eq!(count(&app, &sql, alan).await, 1, "Alan's {table}");
    }
    assert_eq!(comments(&app, ada).await[0].body, "Ada's");
    assert_eq!(comments(&app, alan).await[0].body, "Alan's");
}

// ---- Who may ----------------------------------------------------------------------

#[tokio::test]
async fn a_viewer_reads_but_every_change_is_refused_and_nothing_changes() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    add_device(&app, ada, "Pixel 8").await;
    let group: NamedRef = ok(
        "group",
        post(&app, "create_group", json!({ "name": "Crew" })).await,
    )
    .await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    let deletion = delete_user(&app, alan).await;
    let member = role_id(&app, "member").await;
    let loaded = app.user_detail(ada).await;
    let device = loaded.devices[0].id;
    let viewer = app.sign_in_as("viewer@roster.test", "viewer").await;
    let audit_rows = || app.scalar_i64("SELECT count(*) FROM audit_log", vec![]);
    let audited = audit_rows().await;
    let total = app.list_qs("").await.total;
    let writes = [
        (
            "create_users",
            json!({ "users": [new_user("New", "Person", member)] }),
        ),
        (
            "update_user",
            json!({ "id": ada, "form": edit_form(&loaded) }),
        ),
        (
            "bulk_users",
            json!({ "selection": { "Ids": [ada] }, "action": { "AddTag": "x" } }),
        ),
        (
            "bulk_users",
            json!({ "selection": { "Matching": UserQuery::default() }, "action": "Delete" }),
        ),
        ("set_user_tags", json!({ "id": ada, "names": ["x"] })),
        ("set_user_groups", json!({ "id": ada, "names": ["x"] })),
        ("set_user_status", json!({ "id": ada, "status": "Banned" })),
        ("delete_user", json!({ "id": ada })),
        ("undo_delete", json!({ "deletion_id": deletion })),
        ("add_comment", json!({ "user_id": ada, "body": "x" })),
        (
            "remove_device",
            json!({ "user_id": ada, "device_id": device }),
        ),
        ("create_group", json!({ "name": "x" })),
        ("rename_group", json!({ "id": group.id, "name": "x" })),
        ("delete_group", json!({ "id": group.id })),
    ];

    // Act and assert: reads are allowed.
    for endpoint in ["list_roles", "list_groups"] {
        let response = app.call(&viewer, endpoint, json!({})).await;
        assert_eq!(response.status(), StatusCode::OK, "viewer {endpoint}");
    }
    let listed = app
        .call(&viewer, "list_comments", json!({ "user_id": ada }))
        .await;
    assert_eq!(listed.status(), StatusCode::OK, "viewer list_comments");

    // Act and assert: every write is refused.
    for (endpoint, body) in &writes {
        let response = app.call(&viewer, endpoint, body.clone()).await;
        let error = refused(endpoint, response, StatusCode::FORBIDDEN).await;
        assert!(
            matches!(error, AppError::Forbidden(_)),
            "{endpoint}: {error:?}"
        );
    }

    // Act and assert: so is every call without a session.
    let anonymous = new_client();
    for (endpoint, body) in writes.iter().chain(&[("list_groups", json!({}))]) {
        let response = app.call(&anonymous, endpoint, body.clone()).await;
        let error = refused(endpoint, response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(error, AppError::Unauthorized, "{endpoint}");
    }

    // Assert: nothing changed.
    assert_eq!(app.user_detail(ada).await, loaded);
    assert_eq!(app.list_qs("").await.total, total);
    assert_eq!(groups(&app).await, vec![("Crew".to_string(), 0)]);
    assert_eq!(app.list_qs("q=alan").await.total, 0, "the delete stands");
    assert_eq!(audit_rows().await, audited, "no audit entry");
}

#[tokio::test]
async fn a_support_agent_edits_and_tags_but_cannot_delete() {
    // Arrange
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let support = app.sign_in_as("support@roster.test", "support").await;

    // Act
    let tagged = app
        .call(
            &support,
            "bulk_users",
            json!({ "selection": { "Ids": [ada] }, "action": { "AddTag": "vip" } }),
        )
        .await;
    let deleted = app
        .call(&support, "delete_user", json!({ "id": ada }))
        .await;
    let bulk_deleted = app
        .call(
            &support,
            "bulk_users",
            json!({ "selection": { "Ids": [ada] }, "action": "Delete" }),
        )
        .await;

    // Assert
    ok::<BulkResult>("support tags", tagged).await;
    refused("support delete", deleted, StatusCode::FORBIDDEN).await;
    refused("support bulk delete", bulk_deleted, StatusCode::FORBIDDEN).await;
    let detail = app.user_detail(ada).await;
    let tags: Vec<&str> = detail.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, vec!["vip"]);
    assert!(app.audit("user.delete").await.is_empty());
}
