//! `spawn_app()` and one helper per endpoint.

use std::net::SocketAddr;

use app::backend::{db, Config};
use app::domain::{Column, TagInfo, UserDetail, UserPage, UserQuery};
use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};

pub const ADMIN_EMAIL: &str = "owner@roster.test";
pub const ADMIN_PASSWORD: &str = "owner-password-1";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// The server's request limits, to read their footprint.
    pub limits: std::sync::Arc<app::backend::Limits>,
    /// The database's URL (another server may share it).
    pub database_url: String,
    /// The database this app made (and drops); none for a second server beside it.
    _database: Option<TestDatabase>,
}

/// Starts the app on 127.0.0.1:0 with a new, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::default()).await
}

/// [`spawn_app`] with these settings (seat quota, undo window, ...).
pub async fn spawn_app_with(config: Config) -> TestApp {
    spawn(config, true, "target/site").await
}

/// [`spawn_app`] on a new database that has not been migrated.
pub async fn spawn_unmigrated() -> TestApp {
    spawn(Config::default(), false, "target/site").await
}

/// [`spawn_app`] serving the static files under `site_root`.
pub async fn spawn_app_with_site(site_root: &str) -> TestApp {
    spawn(Config::default(), true, site_root).await
}

/// A second server on `other`'s database, with its own pool, limits and jobs, as a
/// second process behind a load balancer would be. Its client starts signed out.
pub async fn spawn_beside(other: &TestApp) -> TestApp {
    serve(
        Config::default(),
        other.database_url.clone(),
        None,
        true,
        "target/site",
    )
    .await
}

async fn spawn(config: Config, migrate: bool, site_root: &str) -> TestApp {
    let database = TestDatabase::create().await;
    serve(
        config,
        database.url.clone(),
        Some(database),
        migrate,
        site_root,
    )
    .await
}

async fn serve(
    config: Config,
    url: String,
    database: Option<TestDatabase>,
    migrate: bool,
    site_root: &str,
) -> TestApp {
    let db = db::connect(&url, 4)
        .await
        .expect("connect to the test database");
    if migrate {
        server::prepare_database(&db)
            .await
            .expect("migrate the test database");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr: SocketAddr = listener.local_addr().expect("local address");
    let limits = std::sync::Arc::new(app::backend::Limits::new(&config));
    let router = server::router_with_limits(
        db.clone(),
        config,
        server::leptos_options(site_root, addr),
        limits.clone(),
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve")
    });
    TestApp {
        address: format!("http://{addr}"),
        client: new_client(),
        db,
        limits,
        database_url: url,
        _database: database,
    }
}

/// `server serve` (the binary) on a free loopback port against `database_url`, with
/// `env` (RUST_LOG is `info`, as an operator would read it, unless `env` says otherwise);
/// returns once `/readyz` answers, with the process and its address. Its output is
/// captured (`wait_with_output`) when `capture`, dropped otherwise.
pub async fn serve_binary(
    database_url: &str,
    env: &[(&str, &str)],
    capture: bool,
) -> (std::process::Child, String) {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("address").port()
    };
    let output = || {
        if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--demo-users",
            "0",
        ])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(output())
        .stderr(output())
        .spawn()
        .expect("start server serve");
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let up = client
            .get(format!("{address}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK);
        if up {
            return (child, address);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not become ready"
        );
        assert!(
            child.try_wait().expect("the process' state").is_none(),
            "the server exited early"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `POST /imports/upload` of `data` as `name`, as the Imports page's script does
/// (`fetch`) or as a plain form.
pub async fn upload_file(
    client: &reqwest::Client,
    address: &str,
    name: &str,
    data: Vec<u8>,
    fetch: bool,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(data).file_name(name.to_string()),
    );
    let mut request = client
        .post(format!("{address}/imports/upload"))
        .multipart(form);
    if fetch {
        request = request.header("x-roster-fetch", "1");
    }
    request.send().await.expect("upload request")
}

/// A client as a browser on Roster's own pages is: it keeps cookies and says its
/// requests are same-origin (writes without that are refused).
pub fn new_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

impl TestApp {
    pub fn backend(&self) -> sea_orm::DbBackend {
        self.db.get_database_backend()
    }

    /// Runs SQL with `$n` placeholders.
    pub async fn exec(&self, sql: &str, values: Vec<Value>) {
        self.db
            .execute_raw(Statement::from_sql_and_values(self.backend(), sql, values))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn scalar_i64(&self, sql: &str, values: Vec<Value>) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(self.backend(), sql, values))
            .await
            .expect("query")
            .expect("a row");
        row.try_get_by_index::<i64>(0).expect("an integer")
    }

    /// Creates the owner admin and signs this app's client in as them.
    pub async fn sign_in_owner(&self) {
        app::backend::auth::create_admin(&self.db, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .expect("create admin");
        let response = self
            .sign_in(&self.client, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "owner sign-in: {:?}",
            response.text().await
        );
    }

    /// POST /api/sign_in as a script would (form encoded).
    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/sign_in", self.address))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("sign_in request")
    }

    /// Calls a JSON-input server function.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/{endpoint}", self.address))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{endpoint}: {e}"))
    }

    /// `get_import` as `client`.
    pub async fn import_job(
        &self,
        client: &reqwest::Client,
        id: i64,
    ) -> app::domain::transfer::ImportJob {
        let response = self
            .call(client, "get_import", serde_json::json!({ "id": id }))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "get_import {id}");
        response.json().await.expect("an ImportJob")
    }

    /// Polls `get_import` until the job no longer runs.
    pub async fn settle_import(
        &self,
        client: &reqwest::Client,
        id: i64,
    ) -> app::domain::transfer::ImportJob {
        for _ in 0..1200 {
            let job = self.import_job(client, id).await;
            if !job.state.running() {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("import {id} is still running");
    }

    /// [`TestApp::call`] with an owned client, for futures built ahead.
    pub fn call_owned(
        &self,
        client: reqwest::Client,
        endpoint: &str,
        body: serde_json::Value,
    ) -> impl std::future::Future<Output = reqwest::Response> {
        let url = format!("{}/api/{endpoint}", self.address);
        async move { client.post(url).json(&body).send().await.expect("request") }
    }

    pub async fn list(&self, query: &UserQuery) -> UserPage {
        let response = self
            .call(
                &self.client,
                "list_users",
                serde_json::json!({ "query": query }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "list_users {query:?}");
        response.json().await.expect("a UserPage")
    }

    /// Lists with a URL query string, e.g. `q=smith&status=banned`.
    pub async fn list_qs(&self, qs: &str) -> UserPage {
        self.list(&UserQuery::from_query_string(qs)).await
    }

    /// Emails of the page's rows, in order.
    pub async fn emails(&self, qs: &str) -> Vec<String> {
        self.list_qs(qs)
            .await
            .rows
            .into_iter()
            .map(|r| r.email)
            .collect()
    }

    pub async fn get_user(&self, id: i64) -> reqwest::Response {
        self.call(&self.client, "get_user", serde_json::json!({ "id": id }))
            .await
    }

    pub async fn user_detail(&self, id: i64) -> UserDetail {
        let response = self.get_user(id).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("a UserDetail")
    }

    pub async fn tags(&self) -> Vec<TagInfo> {
        self.call(&self.client, "list_tags", serde_json::json!({}))
            .await
            .json()
            .await
            .expect("tags")
    }

    pub async fn save_hidden(
        &self,
        client: &reqwest::Client,
        hidden: &[Column],
    ) -> reqwest::Response {
        self.call(
            client,
            "save_hidden_columns",
            serde_json::json!({ "hidden": hidden }),
        )
        .await
    }

    pub async fn hidden(&self, client: &reqwest::Client) -> Vec<Column> {
        self.call(client, "get_hidden_columns", serde_json::json!({}))
            .await
            .json()
            .await
            .expect("columns")
    }

    /// Inserts a user and returns its id.
    pub async fn insert_user(&self, user: TestUser) -> i64 {
        let role_id = self
            .scalar_i64(
                "SELECT id FROM roles WHERE name = $1",
                vec![user.role.into()],
            )
            .await;
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                self.backend(),
                "INSERT INTO users (email, username, phone, first_name, last_name, company, job_title, status, \
                 role_id, balance, created_at, updated_at, last_access_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id",
                vec![
                    user.email.into(),
                    user.username.into(),
                    user.phone.into(),
                    user.first.into(),
                    user.last.into(),
                    user.company.into(),
                    user.job_title.into(),
                    user.status.into(),
                    role_id.into(),
                    user.balance.into(),
                    user.created_at.into(),
                    user.last_access_at.into(),
                ],
            ))
            .await
            .expect("insert user")
            .expect("returning id");
        let id: i64 = row.try_get("", "id").expect("id");
        for tag in user.tags {
            self.tag(id, tag).await;
        }
        id
    }

    /// Gives user `id` the tag `name` (created if missing).
    pub async fn tag(&self, id: i64, name: &str) {
        self.exec(
            "INSERT INTO tags (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            vec![name.into(), Utc::now().into()],
        )
        .await;
        let tag_id = self
            .scalar_i64("SELECT id FROM tags WHERE name = $1", vec![name.into()])
            .await;
        self.exec(
            "INSERT INTO user_tags (user_id, tag_id) VALUES ($1, $2)",
            vec![id.into(), tag_id.into()],
        )
        .await;
    }
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub email: String,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub first: String,
    pub last: String,
    pub company: String,
    pub job_title: String,
    pub status: &'static str,
    pub role: &'static str,
    pub balance: i64,
    pub created_at: DateTime<Utc>,
    pub last_access_at: Option<DateTime<Utc>>,
    pub tags: Vec<&'static str>,
}

impl TestUser {
    pub fn new(first: &str, last: &str) -> TestUser {
        let slug = format!("{}.{}", first.to_lowercase(), last.to_lowercase()).replace(' ', "");
        TestUser {
            email: format!("{slug}@example.com"),
            username: Some(slug.replace('.', "_")),
            phone: None,
            first: first.into(),
            last: last.into(),
            company: String::new(),
            job_title: String::new(),
            status: "active",
            role: "member",
            balance: 0,
            created_at: "2025-06-15T12:00:00Z".parse().expect("date"),
            last_access_at: None,
            tags: Vec::new(),
        }
    }
}

/// A database of its own for one test: a temporary SQLite file, or a new PostgreSQL
/// database (dropped afterwards) when TEST_DATABASE_URL names a server.
struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    async fn create() -> TestDatabase {
        let suffix: u64 = rand::thread_rng().gen();
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("roster_test_{suffix:x}");
                let admin = db::connect(&admin_url, 1).await.unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL={admin_url} does not answer: {e:#}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("roster-test-{suffix:x}.db"));
                TestDatabase {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let admin = db::connect(&admin_url, 1).await.ok()?;
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await
                            .ok()
                    })
                })
                .join();
            }
        }
    }
}

/// One `audit_log` row, its JSON parsed.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub actor_id: Option<i64>,
    pub target_user_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl TestApp {
    /// The audit entries with this action, oldest first.
    pub async fn audit(&self, action: &str) -> Vec<AuditEntry> {
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                self.backend(),
                "SELECT actor_id, target_user_id, CAST(before AS TEXT) AS before, \
                 CAST(after AS TEXT) AS after FROM audit_log WHERE action = $1 ORDER BY id",
                vec![action.into()],
            ))
            .await
            .expect("audit query");
        rows.iter()
            .map(|r| {
                let json = |column: &str| {
                    r.try_get::<Option<String>>("", column)
                        .expect("audit JSON column")
                        .map(|text| serde_json::from_str(&text).expect("audit JSON"))
                };
                AuditEntry {
                    actor_id: r.try_get("", "actor_id").expect("actor_id"),
                    target_user_id: r.try_get("", "target_user_id").expect("target_user_id"),
                    before: json("before"),
                    after: json("after"),
                }
            })
            .collect()
    }

    /// The id of the user with this email.
    pub async fn user_id(&self, email: &str) -> i64 {
        self.scalar_i64("SELECT id FROM users WHERE email = $1", vec![email.into()])
            .await
    }

    /// Creates an admin with the built-in `role` and returns a client signed in as them.
    pub async fn sign_in_as(&self, email: &str, role: &str) -> reqwest::Client {
        const PASSWORD: &str = "another-password-1";
        app::backend::auth::create_admin(&self.db, email, PASSWORD)
            .await
            .expect("create admin");
        self.exec(
            "UPDATE users SET role_id = (SELECT id FROM roles WHERE name = $1) WHERE email = $2",
            vec![role.into(), email.into()],
        )
        .await;
        let client = new_client();
        let response = self.sign_in(&client, email, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{email} ({role}) sign-in"
        );
        client
    }
}

/// The drawer's form as loaded for `d`, unchanged.
pub fn edit_form(d: &UserDetail) -> serde_json::Value {
    serde_json::to_value(app::domain::account::UserEditForm::of(d)).expect("a form")
}
