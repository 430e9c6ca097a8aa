//! Import and export through the HTTP endpoints: upload, preview, apply, the rejected
//! rows file, templates, exports of a view, limits and permissions.

use std::time::Duration;

use app::backend::Config;
use app::domain::transfer::{ImportJob, JobState};
use reqwest::StatusCode;

use crate::helpers::{new_client, spawn_app, spawn_app_with, TestApp, TestUser};

impl TestApp {
    /// Uploads a file as the Imports page does; returns the response.
    pub async fn upload_as(
        &self,
        client: &reqwest::Client,
        name: &str,
        data: Vec<u8>,
    ) -> reqwest::Response {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(data).file_name(name.to_string()),
        );
        client
            .post(format!("{}/imports/upload", self.address))
            .header("x-roster-fetch", "1")
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }

    /// Uploads a file and waits for its preview.
    pub async fn preview(&self, name: &str, data: Vec<u8>) -> ImportJob {
        let response = self.upload_as(&self.client, name, data).await;
        assert_eq!(response.status(), StatusCode::CREATED, "upload");
        let id = response.json::<serde_json::Value>().await.expect("json")["id"]
            .as_i64()
            .expect("job id");
        self.wait_job(id).await
    }

    /// Polls an import until it is no longer running.
    pub async fn wait_job(&self, id: i64) -> ImportJob {
        for _ in 0..400 {
            let job: ImportJob = self
                .call(&self.client, "get_import", serde_json::json!({ "id": id }))
                .await
                .json()
                .await
                .expect("job");
            if !job.state.running() {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("import {id} did not finish");
    }

    /// Applies an import and waits for it; returns the apply call's status and the job.
    pub async fn apply(&self, id: i64, skip_invalid: bool) -> (StatusCode, ImportJob) {
        let status = self
            .call(
                &self.client,
                "apply_import",
                serde_json::json!({ "id": id, "skip_invalid": skip_invalid }),
            )
            .await
            .status();
        (status, self.wait_job(id).await)
    }

    pub async fn download(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("download")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.scalar_i64(sql, vec![]).await
    }
}

fn csv(lines: &[&str]) -> Vec<u8> {
    lines.join("\r\n").into_bytes()
}

/// Cells of a CSV download (BOM dropped), without the quoting.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("csv record").iter().map(String::from).collect())
        .collect()
}

async fn seeded() -> TestApp {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let mut ada = TestUser::new("Ada", "Lovelace");
    ada.tags = vec!["vip"];
    app.insert_user(ada).await;
    app.insert_user(TestUser::new("Alan", "Turing")).await;
    app
}

#[tokio::test]
async fn the_preview_writes_nothing_and_applying_does_exactly_what_it_said() {
    let app = seeded().await;
    let users_before = app.count("SELECT count(*) FROM users").await;
    let file = csv(&[
        "E-mail,First Name,Last Name,Status,Role,Tags,Groups",
        "new.one@example.com,New,One,active,member,beta,Founders",
        "ADA.LOVELACE@example.com,Augusta,,banned,,,",
        "alan.turing@example.com,Alan,Turing,,,,",
        "not-an-email,Bad,Email,active,,,",
        "new.two@example.com,Bad,Role,active,wizard,,",
    ]);
    let job = app.preview("people.csv", file).await;
    assert_eq!(job.state, JobState::Previewed, "{job:?}");
    let r = job.report.expect("report");
    assert_eq!(
        (r.rows, r.created, r.updated, r.unchanged, r.rejected),
        (5, 1, 1, 1, 2)
    );
    let rejected: Vec<(u64, String)> = r
        .rejected_rows
        .iter()
        .map(|row| (row.line, row.errors[0].column.clone()))
        .collect();
    assert_eq!(
        rejected,
        vec![(5, "E-mail".to_string()), (6, "Role".to_string())]
    );
    assert!(r.rejected_rows[1].errors[0]
        .message
        .contains("No role is named \"wizard\""));
    assert_eq!(r.updated_rows.len(), 1);
    assert_eq!(r.updated_rows[0].email, "ada.lovelace@example.com");
    assert_eq!(r.updated_rows[0].fields, vec!["first_name", "status"]);
    assert_eq!(r.new_tags, vec!["beta"]);
    assert_eq!(r.new_groups, vec!["Founders"]);
    // Nothing written by the preview.
    assert_eq!(app.count("SELECT count(*) FROM users").await, users_before);
    assert_eq!(
        app.count("SELECT count(*) FROM tags WHERE name = 'beta'")
            .await,
        0
    );
    assert!(app.audit("user.create").await.is_empty());

    let (status, applied) = app.apply(job.id, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(applied.state, JobState::Applied, "{applied:?}");
    let a = applied.report.expect("report");
    assert_eq!(
        (a.created, a.updated, a.unchanged, a.rejected),
        (1, 1, 1, 2)
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users").await,
        users_before + 1
    );
    let ada = app
        .user_detail(app.user_id("ada.lovelace@example.com").await)
        .await;
    assert_eq!(ada.first_name, "Augusta");
    assert_eq!(ada.last_name, "Lovelace", "an empty cell leaves the field");
    assert_eq!(ada.status.as_str(), "banned");
    assert_eq!(
        ada.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        vec!["vip"]
    );
    let one = app
        .user_detail(app.user_id("new.one@example.com").await)
        .await;
    assert_eq!(one.signup_source, "import");
    assert_eq!(
        one.groups
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Founders"]
    );
    let created = app.audit("user.create").await;
    assert_eq!(created.len(), 1);
    let after = created[0].after.clone().expect("after");
    assert_eq!(after["email"], "new.one@example.com");
    assert_eq!(after["tags"], serde_json::json!(["beta"]));
    let updated = app.audit("user.import").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(
        updated[0].before,
        Some(serde_json::json!({ "first_name": "Ada", "status": "active" }))
    );
    assert_eq!(
        updated[0].after,
        Some(serde_json::json!({ "first_name": "Augusta", "status": "banned" }))
    );
}

#[tokio::test]
async fn all_or_nothing_is_refused_while_rows_are_rejected_and_applies_a_clean_file() {
    let app = seeded().await;
    let job = app
        .preview(
            "bad.csv",
            csv(&["email,first_name", "ok@example.com,Ok", "nope,Bad"]),
        )
        .await;
    let (status, after) = app.apply(job.id, false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(after.state, JobState::Previewed, "still ready to apply");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'ok@example.com'")
            .await,
        0
    );

    let job = app
        .preview(
            "good.csv",
            csv(&[
                "email,first_name",
                "ok@example.com,Ok",
                "fine@example.com,Fine",
            ]),
        )
        .await;
    let (status, after) = app.apply(job.id, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after.state, JobState::Applied);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM users WHERE email IN ('ok@example.com', 'fine@example.com')"
        )
        .await,
        2
    );
    let (status, _) = app.apply(job.id, false).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an applied import cannot be applied again"
    );
}

#[tokio::test]
async fn tags_and_groups_cells_replace_and_an_import_never_deletes() {
    let app = seeded().await;
    let total = app.count("SELECT count(*) FROM users").await;
    let job = app
        .preview(
            "tags.csv",
            csv(&[
                "email;tags;groups",
                "ada.lovelace@example.com;beta, Gamma;Ops",
                "alan.turing@example.com;;",
            ]),
        )
        .await;
    let r = job.report.clone().expect("report");
    assert_eq!(
        (r.updated, r.unchanged),
        (1, 1),
        "a semicolon file; empty cells change nothing"
    );
    let (_, applied) = app.apply(job.id, false).await;
    assert_eq!(applied.state, JobState::Applied);
    let ada = app
        .user_detail(app.user_id("ada.lovelace@example.com").await)
        .await;
    let mut tags: Vec<_> = ada.tags.iter().map(|t| t.name.clone()).collect();
    tags.sort();
    assert_eq!(tags, vec!["Gamma", "beta"], "vip was replaced");
    assert_eq!(
        ada.groups
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Ops"]
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users").await,
        total,
        "nobody deleted"
    );
}

#[tokio::test]
async fn an_unchanged_export_reimports_as_zero_changes_in_csv_and_xlsx() {
    let app = seeded().await;
    let mut odd = TestUser::new("=SUM(A1)", "O'Neil, \"Jr\"");
    odd.email = "odd@example.com".into();
    odd.username = Some("odd".into());
    odd.phone = Some("+46701234567".into());
    odd.balance = -1250;
    odd.tags = vec!["vip", "-dash"];
    let id = app.insert_user(odd).await;
    app.exec(
        "UPDATE users SET note = $1, company = $2 WHERE id = $3",
        vec![
            "line one\nline \"two\", three".into(),
            "@corp".into(),
            id.into(),
        ],
    )
    .await;
    for format in ["csv", "xlsx"] {
        let response = app.download(&format!("/users/export.{format}?all=1")).await;
        assert_eq!(response.status(), StatusCode::OK, "{format}");
        let bytes = response.bytes().await.expect("body").to_vec();
        let job = app.preview(&format!("export.{format}"), bytes).await;
        let r = job.report.expect("report");
        assert_eq!(
            (r.created, r.updated, r.unchanged, r.rejected),
            (0, 0, 4, 0),
            "{format}: {:?}",
            r.rejected_rows
        );
        assert!(
            r.ignored_columns.is_empty(),
            "{format}: {:?}",
            r.ignored_columns
        );
    }
    let response = app.download("/users/export.csv?all=1").await;
    let rows = parse_csv(&response.bytes().await.expect("body"));
    let col = |name: &str| rows[0].iter().position(|h| h == name).expect("column");
    let odd_row = rows
        .iter()
        .find(|r| r[col("email")] == "odd@example.com")
        .expect("odd row");
    assert_eq!(
        odd_row[col("first_name")],
        "'=SUM(A1)",
        "a formula is neutralised"
    );
    assert_eq!(odd_row[col("phone")], "'+46701234567");
    assert_eq!(
        odd_row[col("balance")],
        "-12.50",
        "a negative amount is left alone"
    );
    assert_eq!(odd_row[col("company")], "'@corp");
    assert_eq!(odd_row[col("tags")], "'-dash, vip");
}

#[tokio::test]
async fn an_export_of_a_view_has_its_rows_in_order_and_its_columns() {
    let app = seeded().await;
    for (first, status) in [("Grace", "active"), ("Greta", "banned"), ("Gus", "active")] {
        let mut u = TestUser::new(first, "Hopper");
        u.status = status;
        app.insert_user(u).await;
    }
    let qs = "q=hopper&status=active&sort=first_name&dir=desc&hide=phone,tags,balance";
    let response = app.download(&format!("/users/export.csv?{qs}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("attachment; filename=\"users-")));
    let rows = parse_csv(&response.bytes().await.expect("body"));
    let header = &rows[0];
    assert!(header.contains(&"email".to_string()));
    for hidden in ["phone", "tags", "balance"] {
        assert!(
            !header.contains(&hidden.to_string()),
            "{hidden} is hidden: {header:?}"
        );
    }
    let email = header.iter().position(|h| h == "email").expect("email");
    let exported: Vec<String> = rows[1..].iter().map(|r| r[email].clone()).collect();
    assert_eq!(
        exported,
        app.emails(qs).await,
        "the same users in the same order as the table"
    );
    assert_eq!(
        exported,
        vec!["gus.hopper@example.com", "grace.hopper@example.com"]
    );

    let xlsx = app.download(&format!("/users/export.xlsx?{qs}")).await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.expect("body").to_vec();
    let table = app::backend::transfer::read::read(&bytes, app::domain::transfer::FileFormat::Xlsx)
        .expect("xlsx reads");
    assert_eq!(&table.headers, header, "XLSX and CSV share the header");
    assert_eq!(table.rows.len(), 2);
}

#[tokio::test]
async fn a_zip_bomb_fails_with_a_clear_message_and_the_server_stays_up() {
    use std::io::Write;
    let app = seeded().await;
    let mut bomb = Vec::new();
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut bomb));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("xl/worksheets/sheet1.xml", opts)
            .expect("zip entry");
        let zeros = vec![b'0'; 1024 * 1024];
        for _ in 0..200 {
            z.write_all(&zeros).expect("zip write");
        }
        z.finish().expect("zip finish");
    }
    assert!(
        bomb.len() < 2 * 1024 * 1024,
        "the bomb is small: {}",
        bomb.len()
    );
    let job = app.preview("bomb.xlsx", bomb).await;
    assert_eq!(job.state, JobState::Failed);
    assert!(
        job.error.as_deref().is_some_and(|e| e.contains("inflate")),
        "{:?}",
        job.error
    );
    assert_eq!(app.download("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_and_nothing_is_stored() {
    let app = spawn_app_with(Config {
        max_upload_bytes: 1024,
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let mut big = b"email,first_name\r\n".to_vec();
    while big.len() < 4096 {
        big.extend_from_slice(b"someone@example.com,Someone\r\n");
    }
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(big).file_name("big.csv"),
    );
    let response = app
        .client
        .post(format!("{}/imports/upload", app.address))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.starts_with("/imports?error="), "{location}");
    assert!(location.contains("larger"), "{location}");
    assert_eq!(app.count("SELECT count(*) FROM import_jobs").await, 0);
}

#[tokio::test]
async fn the_rejected_rows_come_back_as_a_file_with_an_error_column() {
    let app = seeded().await;
    let job = app
        .preview(
            "fix-me.csv",
            csv(&[
                "email,first_name,status",
                "good@example.com,Good,active",
                "bad,Bad,active",
                "x@example.com,X,gone",
            ]),
        )
        .await;
    let response = app.download(&format!("/imports/{}/rejected", job.id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rows = parse_csv(&response.bytes().await.expect("body"));
    assert_eq!(rows[0], vec!["email", "first_name", "status", "error"]);
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[1][..3], &["bad", "Bad", "active"]);
    assert!(
        rows[1][3].starts_with("email: \"bad\" is not a valid email address"),
        "{:?}",
        rows[1]
    );
    assert!(
        rows[2][3].starts_with("status: \"gone\" is not a status"),
        "{:?}",
        rows[2]
    );
    // Fixed and uploaded again, the file imports.
    let job = app
        .preview(
            "fixed.csv",
            csv(&[
                "email,first_name,status,error",
                "bad@example.com,Bad,active,",
                "x@example.com,X,banned,",
            ]),
        )
        .await;
    let r = job.report.expect("report");
    assert_eq!((r.created, r.rejected), (2, 0));
    assert_eq!(r.ignored_columns, vec!["error"]);
}

#[tokio::test]
async fn a_file_without_an_email_column_fails_with_a_message_naming_its_columns() {
    let app = seeded().await;
    let job = app
        .preview("names.csv", csv(&["name;phone", "Ada;+46701234567"]))
        .await;
    assert_eq!(job.state, JobState::Failed);
    let error = job.error.expect("error");
    assert!(
        error.contains("no email column") && error.contains("name, phone"),
        "{error}"
    );
}

#[tokio::test]
async fn import_and_export_need_their_permissions() {
    let app = seeded().await;
    let viewer = app.sign_in_as("viewer@example.com", "viewer").await;
    let anonymous = new_client();
    for (client, want) in [
        (&viewer, StatusCode::FORBIDDEN),
        (&anonymous, StatusCode::UNAUTHORIZED),
    ] {
        for path in [
            "/users/export.csv?all=1",
            "/users/export.xlsx",
            "/imports/template.csv",
            "/imports/template.xlsx",
            "/imports/1/rejected",
        ] {
            let status = client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .expect("get")
                .status();
            assert_eq!(status, want, "{path}");
        }
        for (endpoint, body) in [
            ("list_imports", serde_json::json!({})),
            ("get_import", serde_json::json!({ "id": 1 })),
            (
                "apply_import",
                serde_json::json!({ "id": 1, "skip_invalid": true }),
            ),
        ] {
            assert_eq!(
                app.call(client, endpoint, body).await.status(),
                want,
                "{endpoint}"
            );
        }
    }
    let upload = app
        .upload_as(&viewer, "x.csv", csv(&["email", "a@example.com"]))
        .await;
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
    let upload = app
        .upload_as(&anonymous, "x.csv", csv(&["email", "a@example.com"]))
        .await;
    assert_eq!(
        upload.status(),
        StatusCode::SEE_OTHER,
        "the upload form sends a signed-out admin to sign in"
    );
    assert_eq!(app.count("SELECT count(*) FROM import_jobs").await, 0);
}

/// LibreOffice Calc opens both exports with every cell as written.
#[tokio::test]
async fn libreoffice_opens_the_exports_with_every_cell_as_written() {
    let soffice = std::process::Command::new("soffice")
        .arg("--version")
        .output();
    if soffice.is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "LibreOffice (soffice) is required in CI: `make office-tools` installs it"
        );
        eprintln!("!!! SKIPPED: LibreOffice is not installed (`make office-tools`) !!!");
        return;
    }
    let app = seeded().await;
    let mut odd = TestUser::new("Zoë", "D'Arc, \"the maid\"");
    odd.email = "zoe@example.com".into();
    odd.username = Some("zoe".into());
    odd.phone = Some("+33612345678".into());
    odd.balance = 123_456;
    app.insert_user(odd).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let csv_bytes = app
        .download("/users/export.csv?all=1&bom=1")
        .await
        .bytes()
        .await
        .expect("csv")
        .to_vec();
    let want = parse_csv(&csv_bytes);
    for format in ["csv", "xlsx"] {
        let bytes = if format == "csv" {
            csv_bytes.clone()
        } else {
            app.download("/users/export.xlsx?all=1")
                .await
                .bytes()
                .await
                .expect("xlsx")
                .to_vec()
        };
        let input = dir.path().join(format!("users.{format}"));
        std::fs::write(&input, &bytes).expect("write");
        let out_dir = dir.path().join(format!("out-{format}"));
        // UTF-8 CSV out; for the CSV input, read it as UTF-8 comma-separated text.
        let mut cmd = std::process::Command::new("soffice");
        cmd.arg(format!(
            "-env:UserInstallation=file://{}/profile",
            dir.path().display()
        ))
        .args([
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
        ]);
        if format == "csv" {
            cmd.args(["--infilter=CSV:44,34,76,1,1/2/2/2/3/2/4/2/5/2/6/2/7/2/8/2/9/2/10/2/11/2/12/2/13/2/14/2/15/2/16/2/17/2/18/2/19/2/20/2"]);
        }
        let status = cmd
            .arg("--outdir")
            .arg(&out_dir)
            .arg(&input)
            .output()
            .expect("soffice runs");
        assert!(
            status.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let converted = std::fs::read(out_dir.join("users.csv")).expect("converted file");
        let got = parse_csv(&converted);
        assert_eq!(got.len(), want.len(), "{format}: rows");
        let col = |name: &str| want[0].iter().position(|h| h == name).expect("column");
        let zoe_want = want
            .iter()
            .find(|r| r[col("email")] == "zoe@example.com")
            .expect("zoe");
        let zoe_got = got
            .iter()
            .find(|r| r[col("email")] == "zoe@example.com")
            .expect("zoe converted");
        for name in [
            "email",
            "first_name",
            "last_name",
            "phone",
            "status",
            "role",
            "tags",
            "username",
        ] {
            // The CSV is read back as written (its `'` guards included); the XLSX holds
            // the values themselves, never formulas.
            let want = if format == "csv" {
                zoe_want[col(name)].clone()
            } else {
                app::domain::transfer::unneutralise(&zoe_want[col(name)]).to_string()
            };
            assert_eq!(zoe_got[col(name)], want, "{format}: {name}");
        }
        let balance = &zoe_got[col("balance")];
        assert!(
            balance == "1234.56" || balance == "1234.56 ",
            "{format}: balance {balance:?}"
        );
    }
}

#[tokio::test]
async fn plaintext_passwords_are_never_handed_back_and_not_kept_after_applying() {
    let app = seeded().await;
    let job = app
        .preview(
            "secrets.csv",
            csv(&[
                "email,first_name,password",
                "pat@example.com,Pat,correct-horse-battery",
                "not-an-email,Bad,another-secret-pass",
            ]),
        )
        .await;
    let rejected = app.download(&format!("/imports/{}/rejected", job.id)).await;
    assert_eq!(rejected.status(), StatusCode::OK);
    let text = rejected.text().await.expect("body");
    assert!(!text.contains("another-secret-pass"), "{text}");
    let rows = parse_csv(text.as_bytes());
    assert_eq!(rows[1][..3], ["not-an-email", "Bad", ""]);

    let (_, applied) = app.apply(job.id, true).await;
    assert_eq!(applied.state, JobState::Applied);
    assert!(
        app.user_detail(app.user_id("pat@example.com").await)
            .await
            .has_password
    );
    assert_eq!(
        app.count("SELECT count(*) FROM import_jobs WHERE data IS NOT NULL")
            .await,
        0,
        "the file with passwords is gone"
    );
    let after = app.download(&format!("/imports/{}/rejected", job.id)).await;
    assert_eq!(after.status(), StatusCode::CONFLICT);
    assert!(after.text().await.expect("body").contains("held passwords"));
}

/// A whole-list export reads tags, groups and device counts in one aggregate per table
/// on PostgreSQL (a filtered view per user): every user's cells are still their own.
#[tokio::test]
async fn the_whole_list_export_gives_each_user_their_own_tags_groups_and_devices() {
    use sea_orm::{ConnectionTrait, Statement};
    use std::collections::HashMap;
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app::backend::seed::seed(&app.db, 300, |_| {})
        .await
        .expect("seed");
    // What the database holds, per email: names sorted ignoring case, devices counted.
    let mut expected: HashMap<String, [Vec<String>; 2]> = HashMap::new();
    for (slot, sql) in [
        "SELECT u.email, t.name FROM user_tags j JOIN tags t ON t.id = j.tag_id JOIN users u ON u.id = j.user_id",
        "SELECT u.email, t.name FROM user_groups j JOIN groups t ON t.id = j.group_id JOIN users u ON u.id = j.user_id",
    ]
    .into_iter()
    .enumerate()
    {
        let rows = app
            .db
            .query_all_raw(Statement::from_string(app.backend(), sql))
            .await
            .expect("names");
        for r in rows {
            let email: String = r.try_get("", "email").expect("email");
            let name: String = r.try_get("", "name").expect("name");
            expected.entry(email).or_default()[slot].push(name);
        }
    }
    let devices: HashMap<String, i64> = app
        .db
        .query_all_raw(Statement::from_string(
            app.backend(),
            "SELECT u.email, count(*) AS n FROM devices d JOIN users u ON u.id = d.user_id GROUP BY u.email",
        ))
        .await
        .expect("devices")
        .iter()
        .map(|r| (r.try_get("", "email").expect("email"), r.try_get("", "n").expect("n")))
        .collect();
    let joined = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort_by_key(|n| n.to_lowercase());
        names.join(", ")
    };

    // The unfiltered view in reverse name order (joined aggregates on PostgreSQL too):
    // each user's tags are theirs, whatever the order.
    let response = app
        .download("/users/export.csv?sort=last_name&dir=desc&hide=")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let view = parse_csv(&response.bytes().await.expect("body"));
    assert_eq!(view.len(), 302);
    let at = |name: &str| view[0].iter().position(|h| h == name).expect("column");
    let (email, tags) = (at("email"), at("tags"));
    for row in view.iter().skip(1) {
        let want = expected.get(&row[email]).cloned().unwrap_or_default();
        assert_eq!(
            row[tags],
            joined(&want[0]),
            "tags of {} in the view",
            row[email]
        );
    }
    let last_names: Vec<String> = view
        .iter()
        .skip(1)
        .map(|r| r[at("last_name")].to_lowercase())
        .collect();
    assert!(
        last_names.windows(2).all(|w| w[0] >= w[1]),
        "the view's order is kept"
    );

    let response = app.download("/users/export.csv?all=1").await;
    assert_eq!(response.status(), StatusCode::OK);
    let rows = parse_csv(&response.bytes().await.expect("body"));
    assert_eq!(
        rows.len(),
        302,
        "the header, 300 seeded users and the owner"
    );
    let col = |name: &str| rows[0].iter().position(|h| h == name).expect("column");
    let (email, tags, groups, devs) = (col("email"), col("tags"), col("groups"), col("devices"));
    let mut with = [0, 0, 0];
    for row in rows.iter().skip(1) {
        let want = expected.get(&row[email]).cloned().unwrap_or_default();
        assert_eq!(row[tags], joined(&want[0]), "tags of {}", row[email]);
        assert_eq!(row[groups], joined(&want[1]), "groups of {}", row[email]);
        let n = devices.get(&row[email]).copied().unwrap_or(0);
        assert_eq!(row[devs], n.to_string(), "devices of {}", row[email]);
        for (i, has) in [!want[0].is_empty(), !want[1].is_empty(), n > 0]
            .into_iter()
            .enumerate()
        {
            with[i] += usize::from(has);
        }
    }
    assert!(
        with.iter().all(|n| *n > 50),
        "the seed gives many users tags, groups and devices: {with:?}"
    );
}
