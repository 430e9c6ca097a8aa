//! Import and export end to end, through the HTTP routes and server functions the
//! Imports page and the users table use: the preview is exactly what applying does,
//! all-or-nothing, upsert by email, lossless re-import of both export formats, the
//! export of a view, zip bombs, the upload limit, the rejected-rows file,
//! permissions, and the exports as LibreOffice Calc opens them.

use std::io::Write as _;

use app::backend::Config;
use app::domain::transfer::{CreatedRow, ImportJob, ImportReport, JobState, UpdatedRow};
use app::domain::{Column, UserDetail};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app, spawn_app_with, TestApp, TestUser, ADMIN_EMAIL};

// ---------------------------------------------------------------------------------
// Helpers (free functions, so they cannot clash with other modules' `impl TestApp`).

/// `POST /imports/upload` as the page's script does (`fetch`) or as a plain form.
async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    data: Vec<u8>,
    fetch: bool,
) -> reqwest::Response {
    crate::helpers::upload_file(client, &app.address, name, data, fetch).await
}

/// Polls `get_import` until the job no longer runs.
async fn settle(app: &TestApp, id: i64) -> ImportJob {
    app.settle_import(&app.client, id).await
}

/// Uploads as the owner and waits for the preview.
async fn preview(app: &TestApp, name: &str, data: Vec<u8>) -> ImportJob {
    let response = upload(app, &app.client, name, data, true).await;
    assert_eq!(response.status(), StatusCode::CREATED, "upload {name}");
    let id = response.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("the job id");
    settle(app, id).await
}

/// A preview that must have succeeded; returns the job and its report.
async fn previewed(app: &TestApp, name: &str, data: Vec<u8>) -> (ImportJob, ImportReport) {
    let job = preview(app, name, data).await;
    assert_eq!(job.state, JobState::Previewed, "{name}: {job:?}");
    let report = job.report.clone().expect("a preview report");
    (job, report)
}

/// `apply_import`; returns the call's status (and body) and the job once settled.
async fn apply(app: &TestApp, id: i64, skip_invalid: bool) -> (StatusCode, String, ImportJob) {
    let response = app
        .call(
            &app.client,
            "apply_import",
            json!({ "id": id, "skip_invalid": skip_invalid }),
        )
        .await;
    let status = response.status();
    let body = response.text().await.expect("body");
    (status, body, settle(app, id).await)
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// The body of a successful GET as the owner.
async fn download(app: &TestApp, path: &str) -> Vec<u8> {
    let response = get(app, &app.client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.bytes().await.expect("body").to_vec()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(sql, vec![]).await
}

/// CSV lines joined with CRLF.
fn csv_file(lines: &[&str]) -> Vec<u8> {
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    text.into_bytes()
}

/// The cells of a CSV file (BOM dropped), as the file holds them.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(String::from).collect())
        .collect()
}

/// Rows of cells back into CSV (quoting as needed, nothing else changed).
fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).expect("CSV row");
    }
    w.into_inner().expect("CSV bytes")
}

/// The first sheet of an XLSX file as text (read with calamine directly).
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX");
    let range = workbook
        .worksheet_range_at(0)
        .expect("a worksheet")
        .expect("the worksheet reads");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
}

/// The row whose `email` cell is `email`.
fn row_of<'a>(rows: &'a [Vec<String>], email: &str) -> &'a [String] {
    let at = column(&rows[0], "email");
    rows.iter()
        .find(|r| r.get(at).map(String::as_str) == Some(email))
        .unwrap_or_else(|| panic!("no row for {email}"))
}

fn names(refs: &[app::domain::NamedRef]) -> Vec<&str> {
    refs.iter().map(|r| r.name.as_str()).collect()
}

async fn detail(app: &TestApp, email: &str) -> UserDetail {
    app.user_detail(app.user_id(email).await).await
}

/// Puts user `id` in group `name` (created if missing).
async fn join_group(app: &TestApp, id: i64, name: &str) {
    app.exec(
        "INSERT INTO groups (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        vec![name.into(), chrono::Utc::now().into()],
    )
    .await;
    let group = app
        .scalar_i64("SELECT id FROM groups WHERE name = $1", vec![name.into()])
        .await;
    app.exec(
        "INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)",
        vec![id.into(), group.into()],
    )
    .await;
}

/// Everything an import could write: row counts, the users' versions, and the full
/// export of every user. Equal fingerprints mean nothing was written.
async fn fingerprint(app: &TestApp) -> (Vec<i64>, Vec<Vec<String>>) {
    let mut counts = Vec::new();
    for sql in [
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM tags",
        "SELECT count(*) FROM groups",
        "SELECT count(*) FROM user_tags",
        "SELECT count(*) FROM user_groups",
        "SELECT count(*) FROM audit_log",
        "SELECT count(*) FROM sessions",
        "SELECT count(*) FROM users WHERE password_hash IS NOT NULL",
        "SELECT coalesce(sum(version), 0) FROM users",
    ] {
        counts.push(count(app, sql).await);
    }
    let export = parse_csv(&download(app, "/users/export.csv?all=1").await);
    (counts, export)
}

// ---------------------------------------------------------------------------------
// 1. The preview is what applying does.

#[tokio::test]
async fn the_preview_reports_exactly_what_applying_then_writes_and_writes_nothing_itself() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let owner = app.user_id(ADMIN_EMAIL).await;
    let mut ada = TestUser::new("Ada", "Lovelace");
    ada.tags = vec!["vip"];
    app.insert_user(ada).await;
    app.insert_user(TestUser::new("Alan", "Turing")).await;
    app.insert_user(TestUser::new("Grace", "Hopper")).await;

    // Headers as people write them; a quoted cell spanning two lines (so the file's
    // lines and its rows differ); an unknown and a read-only column.
    let file = csv_file(&[
        "E-mail,First Name,Last Name,Phone,Status,Role,Balance,Tags,Groups,Note,Email opt-in,Password,Send invitation,Shoe size,ID",
        "new.one@example.com,New,One,+46 70 123 45 67,,,\"1,234.50\",\"beta, VIP\",Founders,\"first line\nsecond, \"\"quoted\"\"\",yes,correct-horse-battery,,42,999",
        "new.two@example.com,New,Two,,,,,,,,,,yes,,",
        "ADA.LOVELACE@Example.com,Augusta,,,banned,support,-5,,,,,,,,",
        "alan.turing@example.com,,,,,,,,Ops,,,,,,",
        "grace.hopper@example.com,Grace,Hopper,,active,member,0,,,,no,,,,",
        "not-an-email,Bad,Email,,,,,,,,,,,,",
        "wizard@example.com,Bad,Role,,,wizard,,,,,,,,,",
        "x@example.com,Bad,Cells,,gone,,12.345,,,,,,,,",
    ]);
    let before = fingerprint(&app).await;
    let (job, preview) = previewed(&app, "people.csv", file).await;

    assert_eq!(job.file_name, "people.csv");
    assert_eq!(job.actor_email.as_deref(), Some(ADMIN_EMAIL));
    assert!(job.finished_at.is_none(), "a preview is not finished");
    assert_eq!(
        (
            preview.rows,
            preview.created,
            preview.updated,
            preview.unchanged,
            preview.rejected
        ),
        (8, 2, 2, 1, 3)
    );
    // Rejected rows: their line in the file (the note spans lines 2 and 3), their
    // email cell as written, and every bad cell named by the file's own header.
    let rejected: Vec<(u64, &str, Vec<&str>)> = preview
        .rejected_rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.email.as_str(),
                r.errors.iter().map(|e| e.column.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            (8, "not-an-email", vec!["E-mail"]),
            (9, "wizard@example.com", vec!["Role"]),
            (10, "x@example.com", vec!["Status", "Balance"]),
        ]
    );
    let messages: Vec<&str> = preview
        .rejected_rows
        .iter()
        .flat_map(|r| r.errors.iter().map(|e| e.message.as_str()))
        .collect();
    assert_eq!(
        messages[0],
        "\"not-an-email\" is not a valid email address."
    );
    assert_eq!(
        messages[1],
        "No role is named \"wizard\"; the roles are admin, member, owner, support, viewer."
    );
    assert!(
        messages[2].contains("\"gone\" is not a status"),
        "{messages:?}"
    );
    assert!(
        messages[3].contains("\"12.345\" is not an amount"),
        "{messages:?}"
    );
    assert_eq!(
        preview.updated_rows,
        vec![
            UpdatedRow {
                line: 5,
                email: "ada.lovelace@example.com".into(),
                fields: vec![
                    "first_name".into(),
                    "status".into(),
                    "role".into(),
                    "balance".into()
                ],
                name: "Augusta".into(),
            },
            UpdatedRow {
                line: 6,
                email: "alan.turing@example.com".into(),
                fields: vec!["groups".into()],
                name: String::new(),
            },
        ]
    );
    // The new users by name, as the file gives them.
    assert_eq!(
        preview.created_rows,
        vec![
            CreatedRow {
                line: 2,
                email: "new.one@example.com".into(),
                name: "New One".into(),
            },
            CreatedRow {
                line: 4,
                email: "new.two@example.com".into(),
                name: "New Two".into(),
            },
        ]
    );
    let changed: Vec<(&str, u64)> = preview
        .changed_fields
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        changed,
        vec![
            ("balance", 1),
            ("first_name", 1),
            ("groups", 1),
            ("role", 1),
            ("status", 1)
        ]
    );
    assert_eq!(preview.new_tags, vec!["beta"], "VIP is the existing vip");
    assert_eq!(preview.new_groups, vec!["Founders", "Ops"]);
    assert_eq!(preview.ignored_columns, vec!["Shoe size"]);
    assert_eq!(preview.read_only_columns, vec!["ID"]);

    // The preview ran every write and rolled them back: nothing is left.
    assert_eq!(fingerprint(&app).await, before, "the preview wrote nothing");
    assert!(app.audit("user.create").await.is_empty());
    assert!(app.audit("user.import").await.is_empty());
    let listed: Vec<ImportJob> = app
        .call(&app.client, "list_imports", json!({}))
        .await
        .json()
        .await
        .expect("jobs");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, JobState::Previewed);
    assert_eq!(listed[0].report.as_ref().map(|r| r.created), Some(2));

    let (status, body, applied) = apply(&app, job.id, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(applied.state, JobState::Applied, "{applied:?}");
    assert!(applied.skipped_invalid);
    assert!(applied.finished_at.is_some());
    assert_eq!(
        applied.report.as_ref(),
        Some(&preview),
        "applying reports exactly what the preview said"
    );

    // The database now holds exactly that.
    let (counts, _) = fingerprint(&app).await;
    assert_eq!(counts[0], before.0[0] + 2, "two users created");
    let one = detail(&app, "new.one@example.com").await;
    assert_eq!(
        (one.first_name.as_str(), one.last_name.as_str()),
        ("New", "One")
    );
    assert_eq!(one.phone.as_deref(), Some("+46701234567"));
    assert_eq!(one.balance, 123_450);
    assert_eq!(one.status.as_str(), "active");
    assert_eq!(one.role.name, "member");
    assert_eq!(one.language, "en");
    assert!(one.email_opt_in);
    assert!(one.email_opt_in_changed_at.is_some());
    assert_eq!(one.note, "first line\nsecond, \"quoted\"");
    assert_eq!(one.signup_source, "import");
    assert!(one.has_password);
    assert_eq!(names(&one.tags), vec!["beta", "vip"]);
    assert_eq!(names(&one.groups), vec!["Founders"]);
    let hash: String = app
        .db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            app.backend(),
            "SELECT password_hash FROM users WHERE id = $1",
            vec![one.id.into()],
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get("", "password_hash")
        .expect("hash");
    assert!(hash.starts_with("$argon2id$"), "a real hash, not {hash:?}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM tags WHERE lower(name) = 'vip'").await,
        1,
        "VIP matched the existing tag"
    );
    let two = detail(&app, "new.two@example.com").await;
    assert_eq!(two.status.as_str(), "invited", "send_invitation");
    assert!(!two.has_password);

    let ada = detail(&app, "ada.lovelace@example.com").await;
    assert_eq!(ada.first_name, "Augusta");
    assert_eq!(ada.last_name, "Lovelace", "an empty cell leaves the field");
    assert_eq!(ada.status.as_str(), "banned");
    assert_eq!(ada.role.name, "support");
    assert_eq!(ada.balance, -500);
    assert_eq!(
        names(&ada.tags),
        vec!["vip"],
        "an empty tags cell leaves tags"
    );
    let alan = detail(&app, "alan.turing@example.com").await;
    assert_eq!(names(&alan.groups), vec!["Ops"]);
    let grace = detail(&app, "grace.hopper@example.com").await;
    assert_eq!(grace.version, 1, "the unchanged row was not written");
    for rejected in ["wizard@example.com", "x@example.com"] {
        assert_eq!(
            app.scalar_i64(
                "SELECT count(*) FROM users WHERE email = $1",
                vec![rejected.into()]
            )
            .await,
            0,
            "{rejected} was rejected"
        );
    }

    let created = app.audit("user.create").await;
    let mut targets: Vec<i64> = created.iter().filter_map(|e| e.target_user_id).collect();
    targets.sort_unstable();
    assert_eq!(targets, vec![one.id, two.id]);
    assert!(created.iter().all(|e| e.actor_id == Some(owner)));
    let one_entry = created
        .iter()
        .find(|e| e.target_user_id == Some(one.id))
        .and_then(|e| e.after.clone())
        .expect("new.one's entry");
    assert_eq!(one_entry["email"], "new.one@example.com");
    assert_eq!(one_entry["phone"], "+46701234567");
    assert_eq!(one_entry["role"], "member");
    assert_eq!(one_entry["source"], "import");
    assert_eq!(one_entry["tags"], json!(["beta", "vip"]));
    assert_eq!(one_entry["groups"], json!(["Founders"]));
    // The import's creates are one batch, listed once with their number; so are its
    // updates.
    for action in ["user.create", "user.import"] {
        assert_eq!(
            app.scalar_i64(
                "SELECT count(*) FROM audit_log WHERE action = $1 AND batch_size = 2 \
                 AND batch_id IS NOT NULL",
                vec![action.into()]
            )
            .await,
            1,
            "{action}: one listed entry for the batch of 2"
        );
    }

    let imported = app.audit("user.import").await;
    assert_eq!(imported.len(), 2);
    let by_target = |id: i64| {
        imported
            .iter()
            .find(|e| e.target_user_id == Some(id))
            .unwrap_or_else(|| panic!("no user.import entry for {id}"))
    };
    let ada_entry = by_target(ada.id);
    assert_eq!(ada_entry.actor_id, Some(owner));
    assert_eq!(
        ada_entry.before,
        Some(json!({ "first_name": "Ada", "status": "active", "role": "member", "balance": 0 }))
    );
    assert_eq!(
        ada_entry.after,
        Some(
            json!({ "first_name": "Augusta", "status": "banned", "role": "support", "balance": -500 })
        )
    );
    let alan_entry = by_target(alan.id);
    assert_eq!(alan_entry.before, Some(json!({ "groups": [] })));
    assert_eq!(alan_entry.after, Some(json!({ "groups": ["Ops"] })));

    // The plain form (no script) is sent to the job's page.
    let response = upload(
        &app,
        &app.client,
        "again.csv",
        csv_file(&["email", "ada.lovelace@example.com"]),
        false,
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().expect("location");
    let id: i64 = location
        .strip_prefix("/imports/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a job page, not {location}"));
    assert_eq!(settle(&app, id).await.state, JobState::Previewed);
}

// ---------------------------------------------------------------------------------
// 2. All or nothing.

#[tokio::test]
async fn all_or_nothing_refuses_rejected_rows_and_writes_every_row_of_a_clean_file() {
    let app = spawn_app().await;
    app.sign_in_owner().await;

    // Rejected rows: applying all-or-nothing is refused and writes nothing; the job
    // stays ready and can still be applied skipping them.
    let (job, report) = previewed(
        &app,
        "mixed.csv",
        csv_file(&[
            "email,first_name",
            "ok@example.com,Ok",
            "nope,Bad",
            "fine@example.com,Fine",
        ]),
    )
    .await;
    assert_eq!((report.created, report.rejected), (2, 1));
    let before = fingerprint(&app).await;
    let (status, body, after) = apply(&app, job.id, false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("1 rows are rejected"), "{body}");
    assert_eq!(after.state, JobState::Previewed, "still ready to apply");
    assert_eq!(fingerprint(&app).await, before, "nothing written");
    let (status, body, after) = apply(&app, job.id, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(after.state, JobState::Applied);
    assert_eq!(
        count(&app, "SELECT count(*) FROM users").await,
        before.0[0] + 2
    );
    let (status, body, _) = apply(&app, job.id, true).await;
    assert_eq!(status, StatusCode::CONFLICT, "applied twice: {body}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM users").await,
        before.0[0] + 2
    );

    // A row that was fine at preview time and is not any more (someone took its
    // username meanwhile): all-or-nothing writes none of the rows.
    let (job, report) = previewed(
        &app,
        "race.csv",
        csv_file(&[
            "email,username,first_name",
            "first.new@example.com,taken_name,First",
            "second.new@example.com,,Second",
        ]),
    )
    .await;
    assert_eq!((report.created, report.rejected), (2, 0));
    let mut rival = TestUser::new("Rival", "User");
    rival.username = Some("Taken_Name".into());
    app.insert_user(rival).await;
    let before = fingerprint(&app).await;
    let (status, body, after) = apply(&app, job.id, false).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "accepted, then checked again: {body}"
    );
    assert_eq!(after.state, JobState::Failed, "{after:?}");
    assert!(
        after
            .error
            .as_deref()
            .is_some_and(|e| e.contains("something other than the preview showed")
                && e.contains("now: 1 created, 0 updated, 1 rejected")),
        "{:?}",
        after.error
    );
    let r = after.report.expect("the report of the attempt");
    assert_eq!(r.rejected, 1);
    assert_eq!(r.rejected_rows[0].line, 2);
    assert_eq!(r.rejected_rows[0].errors[0].column, "username");
    assert!(
        r.rejected_rows[0].errors[0]
            .message
            .contains("belongs to rival.user@example.com"),
        "{:?}",
        r.rejected_rows
    );
    assert_eq!(
        fingerprint(&app).await,
        before,
        "not even the valid row was written"
    );

    // A clean file of a few hundred rows (more than one insert batch) applies whole,
    // and so does a file updating all of them.
    let mut lines = vec!["email,first_name,last_name,tags".to_string()];
    for i in 0..450 {
        lines.push(format!("bulk{i:03}@example.com,Bulk,No{i:03},batch"));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let users_before = count(&app, "SELECT count(*) FROM users").await;
    let (job, report) = previewed(&app, "bulk.csv", csv_file(&refs)).await;
    assert_eq!((report.created, report.rejected), (450, 0));
    assert_eq!(
        count(&app, "SELECT count(*) FROM users").await,
        users_before
    );
    // Two applies at once (a double click, two tabs): one runs, the other is refused.
    let body = json!({ "id": job.id, "skip_invalid": false });
    let (a, b) = tokio::join!(
        app.call(&app.client, "apply_import", body.clone()),
        app.call(&app.client, "apply_import", body.clone())
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let after = settle(&app, job.id).await;
    assert_eq!(after.state, JobState::Applied, "{after:?}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM users WHERE email LIKE 'bulk%'").await,
        450
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM users u WHERE u.email LIKE 'bulk%' AND u.last_name = \
             'No' || substr(u.email, 5, 3)"
        )
        .await,
        450,
        "each row went to its own user"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM user_tags ut JOIN tags t ON t.id = ut.tag_id WHERE t.name = 'batch'"
        )
        .await,
        450
    );
    assert_eq!(app.audit("user.create").await.len(), 2 + 450);

    let mut lines = vec!["email,job_title".to_string()];
    for i in 0..450 {
        lines.push(format!("BULK{i:03}@example.com,Title {i}"));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (job, report) = previewed(&app, "titles.csv", csv_file(&refs)).await;
    assert_eq!((report.created, report.updated), (0, 450));
    let (status, body, after) = apply(&app, job.id, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(after.state, JobState::Applied);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM users WHERE email LIKE 'bulk%' AND job_title = \
             'Title ' || CAST(CAST(substr(email, 5, 3) AS INTEGER) AS TEXT)"
        )
        .await,
        450
    );
    assert_eq!(app.audit("user.import").await.len(), 450);
}

#[tokio::test]
async fn the_seat_quota_counts_the_users_an_import_would_create() {
    let app = spawn_app_with(Config {
        max_users: Some(4),
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    app.insert_user(TestUser::new("Alan", "Turing")).await;
    let before = fingerprint(&app).await;
    let two = csv_file(&["email", "one@example.com", "two@example.com"]);
    let job = preview(&app, "two.csv", two).await;
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    assert_eq!(
        job.error.as_deref(),
        Some(
            "The file creates 2 users, but the seat quota is 4 and 3 exist. \
             Remove users or raise --max-users."
        )
    );
    assert_eq!(fingerprint(&app).await, before);

    // Fine when previewed, over the quota by the time it is applied: nothing written.
    let (job, r) = previewed(&app, "one.csv", csv_file(&["email", "one@example.com"])).await;
    assert_eq!(r.created, 1);
    app.insert_user(TestUser::new("Grace", "Hopper")).await;
    let before = fingerprint(&app).await;
    let (status, body, after) = apply(&app, job.id, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(after.state, JobState::Failed, "{after:?}");
    assert!(
        after
            .error
            .as_deref()
            .is_some_and(|e| e.contains("seat quota is 4 and 4 exist")),
        "{:?}",
        after.error
    );
    assert_eq!(fingerprint(&app).await, before, "nothing written");

    // Updates need no seat.
    let (job, r) = previewed(
        &app,
        "update.csv",
        csv_file(&["email,job_title", "ada.lovelace@example.com,Countess"]),
    )
    .await;
    assert_eq!((r.created, r.updated), (0, 1));
    let (_, _, after) = apply(&app, job.id, false).await;
    assert_eq!(after.state, JobState::Applied);
}

// ---------------------------------------------------------------------------------
// 3. Upsert by email.

#[tokio::test]
async fn rows_upsert_by_email_ignoring_case_and_empty_cells_change_nothing() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let mut ada = TestUser::new("Ada", "Lovelace");
    ada.company = "Engines".into();
    ada.job_title = "Analyst".into();
    ada.phone = Some("+441234567890".into());
    ada.balance = 500;
    ada.tags = vec!["vip", "beta"];
    let ada_id = app.insert_user(ada).await;
    join_group(&app, ada_id, "Ops").await;
    let mut alan = TestUser::new("Alan", "Turing");
    alan.tags = vec!["vip", "beta"];
    let alan_id = app.insert_user(alan).await;
    join_group(&app, alan_id, "Ops").await;
    join_group(&app, alan_id, "Labs").await;
    let mut grace = TestUser::new("Grace", "Hopper");
    grace.tags = vec!["vip"];
    app.insert_user(grace).await;
    for (first, last) in [("Linus", "Torvalds"), ("Margaret", "Hamilton")] {
        app.insert_user(TestUser::new(first, last)).await;
    }
    let users = count(&app, "SELECT count(*) FROM users").await;
    let groups = count(&app, "SELECT count(*) FROM groups").await;

    let (job, r) = previewed(
        &app,
        "upsert.csv",
        csv_file(&[
            "Email,First Name,Last Name,Company,Job Title,Phone,Balance,Tags,Groups",
            // Job title set, groups replaced (ops is the existing Ops), the rest empty.
            "ADA.LOVELACE@Example.com,,,,Countess,,,,\"Labs, ops\"",
            // Tags replaced by one of them; groups left as they are.
            "alan.turing@example.com,,,,,,,VIP,",
            // Everything as it is, written in other cases.
            "Grace.Hopper@EXAMPLE.COM,Grace,Hopper,,,,,VIP,",
        ]),
    )
    .await;
    assert_eq!(
        (r.created, r.updated, r.unchanged, r.rejected),
        (0, 2, 1, 0),
        "{r:?}"
    );
    let fields: Vec<(&str, Vec<&str>)> = r
        .updated_rows
        .iter()
        .map(|u| {
            (
                u.email.as_str(),
                u.fields.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            ("ada.lovelace@example.com", vec!["job_title", "groups"]),
            ("alan.turing@example.com", vec!["tags"]),
        ]
    );
    assert!(r.new_tags.is_empty() && r.new_groups.is_empty(), "{r:?}");
    let (status, body, applied) = apply(&app, job.id, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(applied.state, JobState::Applied);

    let ada = detail(&app, "ada.lovelace@example.com").await;
    assert_eq!(ada.id, ada_id);
    assert_eq!(
        ada.email, "ada.lovelace@example.com",
        "the email is never changed"
    );
    assert_eq!(ada.job_title, "Countess");
    assert_eq!(
        (
            ada.first_name.as_str(),
            ada.last_name.as_str(),
            ada.company.as_str(),
            ada.phone.as_deref(),
            ada.balance
        ),
        ("Ada", "Lovelace", "Engines", Some("+441234567890"), 500),
        "empty cells leave the fields"
    );
    assert_eq!(names(&ada.tags), vec!["beta", "vip"], "empty tags cell");
    assert_eq!(names(&ada.groups), vec!["Labs", "Ops"], "groups replaced");
    let alan = detail(&app, "alan.turing@example.com").await;
    assert_eq!(names(&alan.tags), vec!["vip"], "tags replaced");
    assert_eq!(
        names(&alan.groups),
        vec!["Labs", "Ops"],
        "empty groups cell"
    );
    let grace = detail(&app, "grace.hopper@example.com").await;
    assert_eq!(grace.version, 1, "unchanged");
    assert_eq!(names(&grace.tags), vec!["vip"]);
    assert_eq!(
        count(&app, "SELECT count(*) FROM users").await,
        users,
        "no user created, none deleted"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM groups").await,
        groups,
        "ops matched Ops"
    );
    for email in [
        "linus.torvalds@example.com",
        "margaret.hamilton@example.com",
    ] {
        assert_eq!(detail(&app, email).await.version, 1, "{email} untouched");
    }

    // The same user twice (in two cases) is refused on the second line.
    let (_, r) = previewed(
        &app,
        "twice.csv",
        csv_file(&[
            "email,job_title",
            "ada.lovelace@example.com,One",
            "ADA.lovelace@example.com,Two",
        ]),
    )
    .await;
    assert_eq!((r.updated, r.rejected), (1, 1));
    assert_eq!(r.rejected_rows[0].line, 3);
    assert_eq!(
        r.rejected_rows[0].errors[0].message,
        "This email is also on line 2; each user may appear once."
    );
}

// ---------------------------------------------------------------------------------
// 4. An unchanged export re-imports as no change.

/// Users whose values are easy to lose on the way to a file and back.
async fn tricky_users(app: &TestApp) {
    let mut odd = TestUser::new("=SUM(A1)", "O'Neil, \"Jr\"");
    odd.email = "odd@example.com".into();
    odd.username = Some("007bond".into());
    odd.phone = Some("+46701234567".into());
    odd.company = "@corp".into();
    odd.job_title = "+1 engineer".into();
    odd.balance = -1250;
    odd.last_access_at = Some("2025-07-01T08:30:00Z".parse().expect("date"));
    odd.tags = vec!["vip", "-dash"];
    let odd_id = app.insert_user(odd).await;
    join_group(app, odd_id, "R&D").await;
    join_group(app, odd_id, "=Group").await;
    app.exec(
        "UPDATE users SET note = $1, address = $2, language = $3, email_opt_in = $4 WHERE id = $5",
        vec![
            "line one\nline \"two\", three; four\n  indented, with 'quotes'".into(),
            "12 Main St; Apt 3\tRear".into(),
            "pt-BR".into(),
            true.into(),
            odd_id.into(),
        ],
    )
    .await;
    let mut quote = TestUser::new("'=x", "-");
    quote.email = "quote@example.com".into();
    quote.username = None;
    quote.company = "0012".into();
    quote.job_title = "'quoted".into();
    quote.balance = 7;
    quote.status = "banned";
    quote.role = "viewer";
    app.insert_user(quote).await;
    let mut rich = TestUser::new("Zoë", "Ñúñez");
    rich.email = "zoe@example.com".into();
    rich.username = Some("zoe".into());
    rich.phone = Some("+12025550123".into());
    rich.balance = 123_456_789;
    rich.status = "invited";
    app.insert_user(rich).await;
}

#[tokio::test]
async fn an_unchanged_export_reimports_as_nothing_to_do_in_csv_and_xlsx() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    tricky_users(&app).await;
    app.insert_user(TestUser::new("Alan", "Turing")).await;
    let users = count(&app, "SELECT count(*) FROM users").await as u64;

    let csv_before = download(&app, "/users/export.csv?all=1").await;
    let rows = parse_csv(&csv_before);
    let odd = row_of(&rows, "odd@example.com");
    let at = |name: &str| column(&rows[0], name);
    // The file holds the values, neutralised against formulas.
    assert_eq!(odd[at("first_name")], "'=SUM(A1)");
    assert_eq!(odd[at("last_name")], "O'Neil, \"Jr\"");
    assert_eq!(odd[at("phone")], "'+46701234567");
    assert_eq!(odd[at("company")], "'@corp");
    assert_eq!(odd[at("balance")], "-12.50");
    assert_eq!(odd[at("tags")], "'-dash, vip");
    assert_eq!(odd[at("groups")], "'=Group, R&D");
    assert_eq!(odd[at("language")], "pt-BR");
    assert_eq!(odd[at("email_opt_in")], "yes");
    assert_eq!(
        odd[at("note")],
        "line one\nline \"two\", three; four\n  indented, with 'quotes'"
    );
    assert_eq!(odd[at("last_access")], "2025-07-01T08:30:00Z");
    let quote = row_of(&rows, "quote@example.com");
    assert_eq!(quote[at("first_name")], "''=x");
    assert_eq!(quote[at("last_name")], "'-");
    assert_eq!(quote[at("company")], "0012");
    assert_eq!(quote[at("balance")], "0.07");

    for format in ["csv", "xlsx"] {
        let bytes = if format == "csv" {
            csv_before.clone()
        } else {
            download(&app, "/users/export.xlsx?all=1").await
        };
        let (job, r) = previewed(&app, &format!("export.{format}"), bytes).await;
        assert_eq!(
            (r.rows, r.created, r.updated, r.unchanged, r.rejected),
            (users, 0, 0, users, 0),
            "{format}: {:?} {:?}",
            r.updated_rows,
            r.rejected_rows
        );
        assert!(r.ignored_columns.is_empty(), "{format}: {r:?}");
        assert_eq!(
            r.read_only_columns,
            vec!["id", "devices", "signup_date", "last_access"],
            "{format}"
        );
        // Applying it changes nothing at all.
        let before = fingerprint(&app).await;
        let (status, body, applied) = apply(&app, job.id, false).await;
        assert_eq!(status, StatusCode::OK, "{format}: {body}");
        assert_eq!(applied.state, JobState::Applied, "{format}");
        assert_eq!(fingerprint(&app).await, before, "{format}: nothing written");
        assert!(app.audit("user.import").await.is_empty(), "{format}");
        assert_eq!(
            download(&app, "/users/export.csv?all=1").await,
            csv_before,
            "{format}: the export after is the export before"
        );
    }

    // And the re-import does read every cell: one edited cell is one change.
    let mut edited = rows.clone();
    let note_at = at("note");
    let odd_index = edited
        .iter()
        .position(|r| r[at("email")] == "odd@example.com")
        .expect("odd");
    edited[odd_index][note_at].push_str(" (edited)");
    let (_, r) = previewed(&app, "edited.csv", write_csv(&edited)).await;
    assert_eq!((r.updated, r.unchanged), (1, users - 1), "{r:?}");
    assert_eq!(r.updated_rows[0].email, "odd@example.com");
    assert_eq!(r.updated_rows[0].fields, vec!["note"]);
}

/// What the drawer accepts, an export holds and an import reads back: a note that
/// starts indented (the drawer keeps leading spaces), an address up to 400 characters.
#[tokio::test]
async fn values_saved_in_the_drawer_reimport_as_unchanged() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let mut form = crate::helpers::edit_form(&app.user_detail(id).await);
    let note = "    Indented first line\n  - and a list\n\tTabbed";
    let address = format!("Flat 3, {}, London", "Analytical Engine Works ".repeat(15));
    assert!(address.chars().count() > 300 && address.chars().count() <= 400);
    form["note"] = json!(note);
    form["address"] = json!(address);
    let response = app
        .call(
            &app.client,
            "update_user",
            json!({ "id": id, "form": form }),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{:?}",
        response.text().await
    );
    let saved = app.user_detail(id).await;
    assert_eq!(
        (saved.note.as_str(), saved.address.as_str()),
        (note, address.as_str())
    );

    for format in ["csv", "xlsx"] {
        let bytes = download(&app, &format!("/users/export.{format}?all=1")).await;
        let (_, r) = previewed(&app, &format!("drawer.{format}"), bytes).await;
        assert_eq!(
            (r.updated, r.rejected, r.unchanged),
            (0, 0, 2),
            "{format}: {:?} {:?}",
            r.updated_rows,
            r.rejected_rows
        );
    }
}

// ---------------------------------------------------------------------------------
// 5. The export of a view is the table.

/// The emails of every page of the table for `qs`, in order.
async fn table_emails(app: &TestApp, qs: &str) -> Vec<String> {
    let first = app.list_qs(&format!("{qs}&per_page=100")).await;
    let mut emails = Vec::new();
    for page in 1..=first.total.div_ceil(100) {
        emails.extend(app.emails(&format!("{qs}&per_page=100&page={page}")).await);
    }
    assert_eq!(emails.len() as u64, first.total, "{qs}");
    emails
}

#[tokio::test]
async fn the_export_of_a_view_holds_the_tables_rows_in_its_order_and_its_columns() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    // Over 100 active Smiths (more than one page of 100; many with the same last name,
    // so the order among equals counts), others the search or the status leaves out.
    for i in 0..130 {
        let last = match i % 5 {
            0 | 2 => "Smith",
            1 => "Smithson",
            3 => "Smith-Jones",
            _ => "Goldsmith",
        };
        let mut u = TestUser::new(&format!("Person{i:03}"), last);
        u.email = format!("p{:03}.{}@example.com", (i * 37) % 130, last.to_lowercase());
        u.username = Some(format!("user{i:03}"));
        app.insert_user(u).await;
    }
    for (i, status) in ["banned", "invited", "banned"].into_iter().enumerate() {
        let mut u = TestUser::new(&format!("Other{i}"), "Smith");
        u.status = status;
        app.insert_user(u).await;
    }
    app.insert_user(TestUser::new("Alan", "Turing")).await;

    let qs = "q=smith&status=active&sort=last_name&dir=asc";
    let table = table_emails(&app, qs).await;
    assert!(table.len() > 100, "{}", table.len());

    // Paging is not part of an export: page 3 of 25 exports every matching user.
    for query in [
        format!("{qs}&hide="),
        format!("{qs}&hide=&page=3&per_page=25"),
    ] {
        let rows = parse_csv(&download(&app, &format!("/users/export.csv?{query}")).await);
        assert_eq!(
            rows[0],
            vec![
                "id",
                "email",
                "username",
                "first_name",
                "last_name",
                "phone",
                "status",
                "role",
                "balance",
                "tags",
                "devices",
                "signup_date",
                "last_access"
            ],
            "every table column: {query}"
        );
        let emails: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
        assert_eq!(emails, table, "the table's users in its order: {query}");
        assert!(rows[1..].iter().all(|r| r[6] == "active"));
    }

    // Hidden columns go, email stays (even when hidden).
    let rows = parse_csv(
        &download(
            &app,
            &format!("/users/export.csv?{qs}&hide=phone,tags,name,email,balance"),
        )
        .await,
    );
    assert_eq!(
        rows[0],
        vec![
            "id",
            "email",
            "username",
            "status",
            "role",
            "devices",
            "signup_date",
            "last_access"
        ]
    );
    let emails: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(emails, table);

    // Without `hide`, the admin's saved choice.
    let response = app
        .save_hidden(&app.client, &[Column::Id, Column::Devices])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let rows = parse_csv(&download(&app, &format!("/users/export.csv?{qs}")).await);
    assert!(
        !rows[0].contains(&"id".to_string()) && !rows[0].contains(&"devices".to_string()),
        "{:?}",
        rows[0]
    );
    assert_eq!(rows[0][0], "email");

    // The progress the page polls, under the token it passes (finished: 100%).
    let progress = |token: &'static str| {
        let app = &app;
        async move {
            let response = app
                .call(&app.client, "export_progress", json!({ "token": token }))
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            response
                .json::<Option<app::domain::transfer::Progress>>()
                .await
                .expect("progress")
        }
    };
    assert_eq!(progress("t0ken1").await, None, "unknown before the export");
    download(&app, &format!("/users/export.csv?{qs}&token=t0ken1")).await;
    let done = progress("t0ken1").await;
    assert!(done.as_ref().is_none_or(|p| p.percent() == 100), "{done:?}");

    // The XLSX of the view: the same header and rows.
    let csv_rows = parse_csv(&download(&app, &format!("/users/export.csv?{qs}&hide=tags")).await);
    let xlsx = xlsx_rows(&download(&app, &format!("/users/export.xlsx?{qs}&hide=tags")).await);
    assert_eq!(xlsx[0], csv_rows[0]);
    let email_at = column(&xlsx[0], "email");
    let emails: Vec<String> = xlsx[1..].iter().map(|r| r[email_at].clone()).collect();
    assert_eq!(emails, table);

    // Descending, and with a tag filter: still the table's rows.
    for email in [
        &table[0],
        &table[table.len() - 1],
        "alan.turing@example.com",
    ] {
        app.tag(app.user_id(email).await, "vip").await;
    }
    for qs in [
        "q=smith&status=active&sort=last_name&dir=desc",
        "q=smith&sort=first_name",
        "tags=vip&sort=email",
    ] {
        let rows = parse_csv(&download(&app, &format!("/users/export.csv?{qs}&hide=")).await);
        let emails: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
        assert_eq!(emails, table_emails(&app, qs).await, "{qs}");
    }
    assert_eq!(table_emails(&app, "tags=vip").await.len(), 3);
}

// ---------------------------------------------------------------------------------
// 6. Zip bombs.

/// A real workbook whose first sheet is `part_bytes` of zeros, deflated once and
/// stored `parts` times (the sheet, then xl/media/pad1.xml, pad2.xml, ...).
fn bomb(part_bytes: usize, parts: usize) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "email").expect("cell");
    ws.write_string(1, 0, "a@example.com").expect("cell");
    let real = wb.save_to_buffer().expect("workbook");

    // The part, deflated once.
    let mut one = Vec::new();
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut one));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("part", opts).expect("entry");
        let zeros = vec![b'0'; 1024 * 1024];
        let mut left = part_bytes;
        while left > 0 {
            let n = left.min(zeros.len());
            z.write_all(&zeros[..n]).expect("write");
            left -= n;
        }
        z.finish().expect("finish");
    }
    let mut part = zip::ZipArchive::new(std::io::Cursor::new(one)).expect("part zip");

    let mut source = zip::ZipArchive::new(std::io::Cursor::new(real)).expect("workbook zip");
    let mut out = Vec::new();
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut out));
        for i in 0..source.len() {
            let entry = source.by_index_raw(i).expect("entry");
            if entry.name().expect("entry name") != "xl/worksheets/sheet1.xml" {
                z.raw_copy_file(entry).expect("copy");
            }
        }
        for n in 0..parts {
            let name = if n == 0 {
                "xl/worksheets/sheet1.xml".to_string()
            } else {
                format!("xl/media/pad{n}.xml")
            };
            z.raw_copy_file_rename(part.by_index_raw(0).expect("part"), name)
                .expect("copy part");
        }
        z.finish().expect("finish");
    }
    out
}

#[tokio::test]
async fn zip_bombs_fail_before_inflating_and_the_server_stays_up() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let before = fingerprint(&app).await;

    // One part of 200 MB of zeros (a few hundred KB on the wire).
    let one = bomb(200 * 1024 * 1024, 1);
    assert!(one.len() < 1024 * 1024, "a small file: {}", one.len());
    let job = preview(&app, "bomb.xlsx", one).await;
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    let error = job.error.clone().unwrap_or_default();
    assert!(
        error.contains("xl/worksheets/sheet1.xml") && error.contains("would inflate"),
        "{error}"
    );
    assert!(
        job.report
            .as_ref()
            .is_none_or(|r| r.rows == 0 && r.created == 0 && r.updated == 0),
        "{job:?}"
    );
    assert!(job.finished_at.is_some());

    // Many parts each of a plausible size, over 1 GB together.
    let many = bomb(10 * 1024 * 1024, 103);
    assert!(many.len() < 4 * 1024 * 1024, "a small file: {}", many.len());
    let job = preview(&app, "many.xlsx", many).await;
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    let error = job.error.clone().unwrap_or_default();
    assert!(
        error.contains("would inflate to 1030 MB") && error.contains("1024 MB"),
        "{error}"
    );

    // Its rejected-rows file is refused the same way (never inflated); the server is
    // fine.
    let response = get(&app, &app.client, &format!("/imports/{}/rejected", job.id)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("would inflate"));
    still_importing(&app, before).await;
}

/// After refused files: the server answers, nothing was written (`before` is the
/// [`fingerprint`] from the start), and a good file still imports.
async fn still_importing(app: &TestApp, before: (Vec<i64>, Vec<Vec<String>>)) {
    assert_eq!(
        get(app, &app.client, "/healthz").await.status(),
        StatusCode::OK
    );
    assert_eq!(fingerprint(app).await, before, "nothing written");
    let (_, r) = previewed(app, "after.csv", csv_file(&["email", "after@example.com"])).await;
    assert_eq!(r.created, 1, "imports still work");
}

/// Files no users file looks like: each is refused with a message naming what is wrong,
/// nothing is written, and the server goes on importing.
#[tokio::test]
async fn hostile_files_are_refused_by_name_and_the_server_stays_up() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let before = fingerprint(&app).await;
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "email,first_name\r\nada@example.com,Ada\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let wide = format!(
        "email,{}\r\nada@example.com\r\n",
        vec!["c"; 1_000_000].join(",")
    );
    let one_line = format!(
        "email,note\r\nada@example.com,{}\r\n",
        "x".repeat(10 * 1024 * 1024)
    );
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for r in 0..3000 {
        sheet
            .write_string(r, 0, format!("user{r}@example.com"))
            .expect("cell");
    }
    let whole = workbook.save_to_buffer().expect("workbook");
    let cut = whole[..whole.len() * 2 / 3].to_vec();
    for (name, data, says) in [
        ("utf16.csv", utf16, "UTF-16"),
        ("wide.csv", wide.into_bytes(), "1000001 columns"),
        (
            "one-line.csv",
            one_line.into_bytes(),
            "is 10 MB long without a line break",
        ),
        ("cut.xlsx", cut, "not a valid XLSX"),
    ] {
        let job = preview(&app, name, data).await;
        assert_eq!(job.state, JobState::Failed, "{name}: {job:?}");
        let error = job.error.clone().unwrap_or_default();
        assert!(error.contains(says), "{name}: {error}");
    }
    still_importing(&app, before).await;
}

/// The command line refuses a file over 1 GB before reading it.
#[tokio::test]
async fn the_import_command_refuses_a_file_over_a_gigabyte_unread() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.csv");
    // Sparse: a size on disk of nothing, so the test stays quick.
    std::fs::File::create(&path)
        .expect("file")
        .set_len(app::backend::transfer::read::MAX_FILE_BYTES + 1)
        .expect("size");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["import", path.to_str().expect("utf-8 path")])
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("server import");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("the most an import reads is 1024 MB"),
        "{said}"
    );
}

// ---------------------------------------------------------------------------------
// 7. The upload limit.

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_and_nothing_is_stored() {
    let app = spawn_app_with(Config {
        max_upload_bytes: 1024,
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let file = |size: usize| {
        let mut data = b"email,first_name\r\n".to_vec();
        let mut i = 0;
        while data.len() < size {
            data.extend_from_slice(format!("someone{i}@example.com,Someone\r\n").as_bytes());
            i += 1;
        }
        data.truncate(size);
        data
    };

    for fetch in [false, true] {
        let response = upload(&app, &app.client, "big.csv", file(2048), fetch).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "fetch: {fetch}");
        let location = response.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        let message: String = location
            .strip_prefix("/imports?")
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "error")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            })
            .unwrap_or_else(|| panic!("back to the Imports page, not {location}"));
        assert!(
            message.starts_with("The file is larger than")
                && message.contains("the most an upload may be"),
            "{message}"
        );
    }
    // Far over the limit (past the request body limit too).
    let response = upload(&app, &app.client, "huge.csv", file(512 * 1024), true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["location"]
        .to_str()
        .expect("location")
        .starts_with("/imports?error=The+file+is+larger"));
    // Wrong kind of file, or an empty one.
    for (name, data, says) in [
        ("people.txt", file(100), "Upload a .csv or .xlsx file"),
        ("empty.csv", Vec::new(), "The file is empty."),
    ] {
        let response = upload(&app, &app.client, name, data, true).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}");
        let location = response.headers()["location"].to_str().expect("location");
        let q = location
            .strip_prefix("/imports?")
            .expect("the Imports page");
        let message = form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        assert!(message.contains(says), "{name}: {message}");
    }
    assert_eq!(count(&app, "SELECT count(*) FROM import_jobs").await, 0);

    // Exactly at the limit is fine.
    let at_limit = file(1024);
    assert_eq!(at_limit.len(), 1024);
    let job = preview(&app, "limit.csv", at_limit).await;
    assert_eq!(job.state, JobState::Previewed, "{job:?}");
    assert_eq!(count(&app, "SELECT count(*) FROM import_jobs").await, 1);
}

// ---------------------------------------------------------------------------------
// 8. The rejected rows as a file.

#[tokio::test]
async fn the_rejected_rows_file_holds_only_those_rows_as_written_with_their_reasons() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app.insert_user(TestUser::new("Ada", "Lovelace")).await;

    // Semicolons, a BOM, a cell over two lines, a formula-like cell.
    let file = "\u{feff}Email;First Name;Status;Note;Balance\r\n\
        good@example.com;Good;active;\"two\r\nlines\";1\r\n\
        bad;=HYPERLINK(\"x\");active;;\r\n\
        ok@example.com;Ok;;;\r\n\
        x@example.com;X;gone;\"a; b\";lots\r\n\
        ada.lovelace@example.com;Ada;banned;;\r\n"
        .as_bytes()
        .to_vec();
    let (job, r) = previewed(&app, "fix-me.csv", file).await;
    assert_eq!(
        (r.created, r.updated, r.rejected),
        (2, 1, 2),
        "{:?}",
        r.rejected_rows
    );
    assert_eq!(
        r.rejected_rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![4, 6]
    );

    let response = get(&app, &app.client, &format!("/imports/{}/rejected", job.id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"fix-me-rejected.csv\"; filename*=UTF-8''fix-me-rejected.csv"
    );
    let rows = parse_csv(&response.bytes().await.expect("body"));
    assert_eq!(
        rows,
        vec![
            vec!["Email", "First Name", "Status", "Note", "Balance", "error"],
            vec![
                "bad",
                "'=HYPERLINK(\"x\")",
                "active",
                "",
                "",
                "Email: \"bad\" is not a valid email address."
            ],
            vec![
                "x@example.com",
                "X",
                "gone",
                "a; b",
                "lots",
                "Status: \"gone\" is not a status: use active, banned or invited.; \
                 Balance: \"lots\" is not an amount like 1234.50."
            ],
        ],
        "the header, then the rejected rows only, as written (a formula still \
         neutralised), with why"
    );

    // Fixed and uploaded again, the file imports (its error column is ignored).
    let mut fixed = rows.clone();
    fixed[1][0] = "bad@example.com".into();
    fixed[2][2] = "banned".into();
    fixed[2][4] = "12".into();
    let (_, r) = previewed(&app, "fixed.csv", write_csv(&fixed)).await;
    assert_eq!((r.created, r.rejected), (2, 0), "{:?}", r.rejected_rows);
    assert_eq!(r.ignored_columns, vec!["error"]);

    // An XLSX upload gets its rejected rows back as XLSX.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (row, cells) in [
        ["email", "phone", "role"],
        ["fine@example.com", "+46701234567", "member"],
        ["worse@example.com", "0701234567", "admin"],
        ["nobody", "", "boss"],
    ]
    .iter()
    .enumerate()
    {
        for (col, cell) in cells.iter().enumerate() {
            if !cell.is_empty() {
                ws.write_string(row as u32, col as u16, *cell)
                    .expect("cell");
            }
        }
    }
    let (job, r) = previewed(&app, "people.xlsx", wb.save_to_buffer().expect("xlsx")).await;
    assert_eq!((r.created, r.rejected), (1, 2));
    let response = get(&app, &app.client, &format!("/imports/{}/rejected", job.id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let rows = xlsx_rows(&response.bytes().await.expect("body"));
    assert_eq!(rows[0], vec!["email", "phone", "role", "error"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][..3], ["worse@example.com", "0701234567", "admin"]);
    assert!(
        rows[1][3].starts_with("phone: Start with + and the country code"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[2][..3], ["nobody", "", "boss"]);
    assert!(
        rows[2][3].starts_with("email: \"nobody\" is not a valid email address."),
        "{:?}",
        rows[2]
    );

    // No rejected rows: the header only. An unknown import: not found.
    let (job, _) = previewed(&app, "clean.csv", csv_file(&["email", "c@example.com"])).await;
    let rows = parse_csv(&download(&app, &format!("/imports/{}/rejected", job.id)).await);
    assert_eq!(rows, vec![vec!["email", "error"]]);
    let response = get(&app, &app.client, "/imports/987654/rejected").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------
// 9. Permissions.

#[tokio::test]
async fn imports_and_exports_need_their_permissions() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let (job, _) = previewed(
        &app,
        "owner.csv",
        csv_file(&["email,job_title", "ada.lovelace@example.com,Countess"]),
    )
    .await;
    let viewer = app.sign_in_as("viewer@example.com", "viewer").await;
    let support = app.sign_in_as("support@example.com", "support").await;
    let anonymous = new_client();
    let paths = [
        "/users/export.csv?all=1".to_string(),
        "/users/export.xlsx?q=ada".to_string(),
        "/imports/template.csv".to_string(),
        "/imports/template.xlsx".to_string(),
        format!("/imports/{}/rejected", job.id),
    ];
    let calls = [
        ("list_imports", json!({})),
        ("get_import", json!({ "id": job.id })),
        (
            "apply_import",
            json!({ "id": job.id, "skip_invalid": true }),
        ),
        ("export_progress", json!({ "token": "abc" })),
    ];
    for (who, client, want) in [
        ("viewer", &viewer, StatusCode::FORBIDDEN),
        ("support", &support, StatusCode::FORBIDDEN),
        ("anonymous", &anonymous, StatusCode::UNAUTHORIZED),
    ] {
        for path in &paths {
            let response = get(&app, client, path).await;
            assert_eq!(response.status(), want, "{who}: {path}");
            let body = response.text().await.expect("body");
            assert!(
                !body.contains("ada.lovelace@example.com") && !body.contains("email,"),
                "{who}: {path} leaks {body}"
            );
        }
        for (endpoint, body) in &calls {
            assert_eq!(
                app.call(client, endpoint, body.clone()).await.status(),
                want,
                "{who}: {endpoint}"
            );
        }
        let response = upload(
            &app,
            client,
            "x.csv",
            csv_file(&["email", "new@example.com"]),
            true,
        )
        .await;
        if who == "anonymous" {
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
            assert_eq!(response.headers()["location"], "/login");
        } else {
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{who} upload");
        }
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM import_jobs").await,
        1,
        "no upload was stored"
    );
    assert_eq!(job_state(&app, job.id).await, "previewed", "not applied");
    assert_eq!(app.user_detail(ada).await.job_title, "");

    // The same requests as the owner do work (the refusals are about permissions).
    for path in &paths {
        assert_eq!(
            get(&app, &app.client, path).await.status(),
            StatusCode::OK,
            "owner: {path}"
        );
    }

    // An admin (users.import, not roles.manage) imports, but cannot hand out or take
    // away a role with admin access, nor ban an admin.
    let admin = app.sign_in_as("admin@example.com", "admin").await;
    let response = upload(
        &app,
        &admin,
        "roles.csv",
        csv_file(&[
            "email,role,status,job_title",
            "ada.lovelace@example.com,support,,",
            "viewer@example.com,,banned,",
            "new.admin@example.com,owner,,",
            "ada.lovelace@example.com,,,Countess",
        ]),
        true,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("id");
    let job = settle(&app, id).await;
    assert_eq!(job.actor_email.as_deref(), Some("admin@example.com"));
    let r = job.report.expect("report");
    let rejected: Vec<(u64, &str, &str)> = r
        .rejected_rows
        .iter()
        .map(|row| {
            (
                row.line,
                row.errors[0].column.as_str(),
                row.errors[0].message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            (
                2,
                "role",
                "Only admins who manage roles can give or take away a role with admin access."
            ),
            (
                3,
                "status",
                "Only admins who manage roles can change the status of an admin."
            ),
            (
                4,
                "role",
                "Only admins who manage roles can give or take away a role with admin access."
            ),
            (
                5,
                "email",
                "This email is also on line 2; each user may appear once."
            ),
        ]
    );
}

async fn job_state(app: &TestApp, id: i64) -> String {
    app.db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            app.backend(),
            "SELECT state FROM import_jobs WHERE id = $1",
            vec![id.into()],
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get("", "state")
        .expect("state")
}

// ---------------------------------------------------------------------------------
// 10. LibreOffice Calc opens the exports with every cell as written.

/// Converts `input` to UTF-8 CSV with LibreOffice; `infilter` reads a CSV input.
fn soffice_to_csv(
    profile: &std::path::Path,
    input: &std::path::Path,
    infilter: Option<&str>,
) -> Vec<Vec<String>> {
    let out_dir = profile.with_file_name(format!(
        "out-{}-{}",
        input.file_name().expect("name").to_string_lossy(),
        infilter.map_or(0, str::len)
    ));
    let mut cmd = std::process::Command::new("soffice");
    cmd.arg(format!(
        "-env:UserInstallation=file://{}",
        profile.display()
    ))
    .args(["--headless", "--norestore"]);
    if let Some(filter) = infilter {
        cmd.arg(format!("--infilter={filter}"));
    }
    // Comma, double quote, UTF-8 (76), from line 1.
    let output = cmd
        .args(["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1"])
        .arg("--outdir")
        .arg(&out_dir)
        .arg(input)
        .output()
        .expect("soffice runs");
    let stem = input
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .to_string();
    let converted = out_dir.join(format!("{stem}.csv"));
    let bytes = std::fs::read(&converted).unwrap_or_else(|e| {
        panic!(
            "{} was not converted ({e}): {} {}",
            input.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    parse_csv(&bytes)
}

#[tokio::test]
async fn libreoffice_opens_the_exports_with_every_cell_as_written() {
    if std::process::Command::new("soffice")
        .arg("--version")
        .output()
        .is_err()
    {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "LibreOffice (soffice) is required in CI: install libreoffice-calc-nogui"
        );
        eprintln!();
        eprintln!("!!!!!!!! SKIPPED: LibreOffice not installed (soffice is not on PATH) !!!!!!!!");
        eprintln!();
        return;
    }
    let app = spawn_app().await;
    app.sign_in_owner().await;
    tricky_users(&app).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("profile");

    let csv_bytes = download(&app, "/users/export.csv?all=1&bom=1").await;
    assert!(csv_bytes.starts_with("\u{feff}".as_bytes()), "bom=1");
    let want = parse_csv(&csv_bytes);
    let header = want[0].clone();
    let at = |name: &str| column(&header, name);
    let csv_path = dir.path().join("users.csv");
    std::fs::write(&csv_path, &csv_bytes).expect("write csv");
    let xlsx_path = dir.path().join("users.xlsx");
    std::fs::write(&xlsx_path, download(&app, "/users/export.xlsx?all=1").await)
        .expect("write xlsx");

    // CSV, every column read as text (format 2): each cell exactly as the file has it,
    // the `'` guards included.
    let as_text: String = (1..=header.len())
        .map(|i| format!("{i}/2"))
        .collect::<Vec<_>>()
        .join("/");
    let got = soffice_to_csv(
        &profile,
        &csv_path,
        Some(&format!("CSV:44,34,76,1,{as_text}")),
    );
    assert_eq!(got, want, "CSV read as text comes out as written");

    // CSV with Calc's own guesses (what double-clicking the file does): no cell runs
    // as a formula, and the text cells stay text (the phone keeps its +).
    let got = soffice_to_csv(&profile, &csv_path, Some("CSV:44,34,76,1"));
    assert_eq!(got.len(), want.len());
    for email in ["odd@example.com", "quote@example.com", "zoe@example.com"] {
        let (w, g) = (row_of(&want, email), row_of(&got, email));
        for name in [
            "email",
            "first_name",
            "last_name",
            "phone",
            "company",
            "job_title",
            "tags",
            "groups",
            "note",
            "address",
            "username",
        ] {
            if (email, name) == ("quote@example.com", "company") {
                // 0012: a number to Calc's guess (keeping leading zeros takes the
                // XLSX, or reading the column as text as above).
                continue;
            }
            assert_eq!(g[at(name)], w[at(name)], "guessed CSV {email}: {name}");
        }
    }

    // XLSX: text cells hold the values themselves (no guard needed, never a
    // formula); numbers, booleans and dates are typed.
    let got = soffice_to_csv(&profile, &xlsx_path, None);
    assert_eq!(got[0], header, "XLSX header");
    assert_eq!(got.len(), want.len(), "XLSX rows");
    for w in &want[1..] {
        let email = &w[at("email")];
        let g = row_of(&got, email);
        for (i, name) in header.iter().enumerate() {
            let expected = match name.as_str() {
                "email_opt_in" => match w[i].as_str() {
                    "yes" => "TRUE".to_string(),
                    _ => "FALSE".to_string(),
                },
                "signup_date" | "last_access" => w[i].replace('T', " ").replace('Z', ""),
                _ => app::domain::transfer::unneutralise(&w[i]).to_string(),
            };
            assert_eq!(g[i], expected, "XLSX {email}: {name}");
        }
    }
}

/// An import writes its users' search documents and status totals in bulk (on SQLite
/// with the row triggers stood aside): what it created and changed is found by every
/// searchable value, what it replaced is not, and the totals match the rows.
#[tokio::test]
async fn imported_users_are_found_by_search_and_counted_by_status() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let response = app
        .call(
            &app.client,
            "create_field",
            json!({ "form": { "key": "plan", "label": "Plan", "kind": "text", "choices": "", "required": false, "searchable": true } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "define plan");
    let mut old = TestUser::new("Wilhelmina", "Oldname");
    old.email = "renamed@example.com".into();
    old.username = None;
    app.insert_user(old).await;

    let file = csv_file(&[
        "email,first_name,last_name,username,phone,company,job_title,status,plan",
        "quokka@example.com,Quentin,Quokkason,qquokka,+46 70 111 22 33,Zebracorp,Lamplighter,active,Platinumplan",
        "banned.one@example.com,Bertil,Bannedsson,,,,,banned,",
        "invited.one@example.com,Ivar,Invitesson,,,,,invited,",
        "renamed@example.com,Wilhelmina,Newname,,,,,,",
    ]);
    let (job, report) = previewed(&app, "search.csv", file).await;
    assert_eq!((report.created, report.updated), (3, 1));
    for q in [
        "quokkason",
        "Quentin",
        "quokka@exa",
        "qquokka",
        "701112233",
        "zebracorp",
        "lamplight",
        "platinumplan",
        "Bannedsson",
        "Invitesson",
    ] {
        assert!(
            app.emails(&format!("q={q}")).await.is_empty(),
            "the preview indexed nothing: {q}"
        );
    }
    let (status, body, applied) = apply(&app, job.id, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(applied.state, JobState::Applied);

    for q in [
        "quokkason",
        "Quentin",
        "quokka@exa",
        "qquokka",
        "701112233",
        "zebracorp",
        "lamplight",
        "platinumplan",
    ] {
        assert_eq!(
            app.emails(&format!("q={q}")).await,
            vec!["quokka@example.com"],
            "q={q}"
        );
    }
    assert_eq!(
        app.emails("q=Bannedsson").await,
        vec!["banned.one@example.com"]
    );
    assert_eq!(app.emails("q=Newname").await, vec!["renamed@example.com"]);
    assert!(
        app.emails("q=Oldname").await.is_empty(),
        "the old name left the index"
    );

    let sql_count = |status: &'static str| {
        let app = &app;
        async move {
            app.scalar_i64(
                "SELECT count(*) FROM users WHERE status = $1",
                vec![status.into()],
            )
            .await as u64
        }
    };
    for status in ["active", "banned"] {
        assert_eq!(
            app.list_qs(&format!("status={status}")).await.total,
            sql_count(status).await,
            "{status}"
        );
    }
    assert_eq!(
        app.list_qs("").await.total,
        app.scalar_i64("SELECT count(*) FROM users", vec![]).await as u64,
        "the unfiltered total (kept per status) counts the new users"
    );
    if app.backend() == sea_orm::DbBackend::Sqlite {
        assert_eq!(
            app.scalar_i64("SELECT count(*) FROM bulk_load", vec![])
                .await,
            0,
            "the triggers are back in force after the import"
        );
        // And a user written afterwards, one at a time, is indexed by them again.
        app.insert_user(TestUser::new("Trudy", "Triggerson")).await;
        assert_eq!(app.list_qs("q=triggerson").await.total, 1);
    }
}

#[tokio::test]
async fn an_unapplied_upload_holding_passwords_is_deleted_after_a_few_hours() {
    use app::backend::transfer::jobs::{drop_stale_passwords, PASSWORDS_DROPPED, PASSWORD_HOURS};
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (with_passwords, _) = previewed(
        &app,
        "secrets.csv",
        b"email,password\nnew@example.com,a-long-password-1\n".to_vec(),
    )
    .await;
    let (plain, _) = previewed(&app, "plain.csv", b"email\nplain@example.com\n".to_vec()).await;
    let later = app::backend::now()
        + chrono::Duration::hours(PASSWORD_HOURS)
        + chrono::Duration::minutes(1);
    assert_eq!(
        drop_stale_passwords(&app.db, app::backend::now())
            .await
            .expect("purge"),
        0,
        "fresh uploads stay"
    );
    assert_eq!(
        drop_stale_passwords(&app.db, later).await.expect("purge"),
        1
    );
    let held =
        |id: i64| format!("SELECT count(*) FROM import_jobs WHERE id = {id} AND data IS NOT NULL");
    assert_eq!(
        count(&app, &held(with_passwords.id)).await,
        0,
        "the passwords are gone"
    );
    assert_eq!(
        count(&app, &held(plain.id)).await,
        1,
        "a file without passwords stays"
    );
    let (_, _, job) = apply(&app, with_passwords.id, false).await;
    assert_eq!(job.state, JobState::Failed);
    assert!(
        format!("{job:?}").contains(PASSWORDS_DROPPED),
        "the apply says why: {job:?}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM users WHERE email = 'new@example.com'"
        )
        .await,
        0
    );
}
