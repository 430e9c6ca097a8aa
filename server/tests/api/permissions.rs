//! Every endpoint refuses a caller without the access it needs. The endpoints come
//! from the running code, not from a list kept here: server functions from Leptos'
//! registry, HTTP endpoints from `server::endpoints` (the list the router is built
//! from), pages from the Leptos route list. A new server function fails the first
//! test until it has a sample call here, and then until it checks its permission.

use reqwest::StatusCode;
use serde_json::{json, Value};

use app::domain::permissions::{self as p, ALL};
use app::domain::{AppError, BulkAction, Selection, UserQuery};
use server::Access;

use crate::helpers::{new_client, spawn_app, TestApp};

/// Who may call a server function.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    /// The admin sign-in and sign-out themselves.
    Open,
    Admin(&'static str),
}

/// A call that deserializes for `endpoint`, and the permission it must need.
fn sample(endpoint: &str) -> Option<(Value, Need)> {
    use Need::Admin;
    let id = json!({ "id": 1 });
    let user = json!({ "user_id": 1 });
    let none = json!({});
    Some(match endpoint {
        "sign_in" => (
            json!({ "email": "nobody@roster.test", "password": "wrong", "next": null }),
            Need::Open,
        ),
        "sign_out" => (none, Need::Open),
        // One's own password: any signed-in admin, even with a temporary password.
        "change_my_password" => (
            json!({ "current": "wrong", "new": "whatever-new-1" }),
            Admin(p::ADMIN_ACCESS),
        ),
        "current_admin" | "get_hidden_columns" | "get_field_columns" => {
            (none, Admin(p::ADMIN_ACCESS))
        }
        "save_hidden_columns" => (json!({ "hidden": [] }), Admin(p::ADMIN_ACCESS)),
        "save_field_columns" => (json!({ "keys": [] }), Admin(p::ADMIN_ACCESS)),
        "list_users" | "count_users" => (
            json!({ "query": UserQuery::default() }),
            Admin(p::USERS_READ),
        ),
        "get_user" => (id, Admin(p::USERS_READ)),
        "list_tags" | "list_roles" | "list_groups" | "due_reminders" | "due_reminder_count" => {
            (none, Admin(p::USERS_READ))
        }
        "list_fields" => (json!({ "archived": false }), Admin(p::USERS_READ)),
        "user_timeline" => (
            json!({ "user_id": 1, "kinds": [], "offset": 0, "limit": 10 }),
            Admin(p::USERS_READ),
        ),
        "user_reminders" | "list_comments" => (user, Admin(p::USERS_READ)),
        "add_timeline_entry" => (
            json!({ "user_id": 1, "text": "x", "at": null }),
            Admin(p::USERS_WRITE),
        ),
        "delete_timeline_entry" => (
            json!({ "user_id": 1, "activity_id": 1 }),
            Admin(p::USERS_WRITE),
        ),
        "add_reminder" => (
            json!({ "user_id": 1, "due_at": 0, "body": "x" }),
            Admin(p::USERS_WRITE),
        ),
        "update_reminder" => (
            json!({ "id": 1, "due_at": 0, "body": "x", "done": false }),
            Admin(p::USERS_WRITE),
        ),
        "delete_reminder" | "delete_comment" | "delete_group" => (id, Admin(p::USERS_WRITE)),
        "create_users" => (json!({ "users": [] }), Admin(p::USERS_WRITE)),
        "update_user" => (
            json!({ "id": 1, "form": app::domain::account::UserEditForm::default() }),
            Admin(p::USERS_WRITE),
        ),
        "set_user_tags" | "set_user_groups" => {
            (json!({ "id": 1, "names": [] }), Admin(p::USERS_WRITE))
        }
        "remove_device" => (
            json!({ "user_id": 1, "device_id": 1 }),
            Admin(p::USERS_WRITE),
        ),
        "add_comment" => (json!({ "user_id": 1, "body": "x" }), Admin(p::USERS_WRITE)),
        "set_user_status" => (
            json!({ "id": 1, "status": "Banned" }),
            Admin(p::USERS_WRITE),
        ),
        "create_group" => (json!({ "name": "x" }), Admin(p::USERS_WRITE)),
        "rename_group" => (json!({ "id": 1, "name": "x" }), Admin(p::USERS_WRITE)),
        "bulk_users" => (
            json!({ "selection": Selection::Ids(vec![1]), "action": BulkAction::Delete }),
            Admin(p::USERS_DELETE),
        ),
        "delete_user" => (id, Admin(p::USERS_DELETE)),
        "undo_delete" => (json!({ "deletion_id": 1 }), Admin(p::USERS_DELETE)),
        "undo_status_change" => (json!({ "change_id": 1 }), Admin(p::USERS_WRITE)),
        "list_imports" => (none, Admin(p::USERS_IMPORT)),
        "get_import" => (id, Admin(p::USERS_IMPORT)),
        "apply_import" => (
            json!({ "id": 1, "skip_invalid": false }),
            Admin(p::USERS_IMPORT),
        ),
        "export_progress" => (json!({ "token": "x" }), Admin(p::USERS_EXPORT)),
        // Only the admin who started a job sees it.
        "get_bulk_job" => (id, Admin(p::ADMIN_ACCESS)),
        "reset_password" => (
            json!({ "id": 1, "mode": "Link" }),
            Admin(p::USERS_PASSWORDS),
        ),
        "send_invitation" => (id, Admin(p::USERS_PASSWORDS)),
        "list_outbox" => (none, Admin(p::USERS_PASSWORDS)),
        "sign_out_everywhere" => (id, Admin(p::USERS_SESSIONS)),
        "list_audit" => (
            json!({ "query": app::domain::audit::AuditQuery::default() }),
            Admin(p::AUDIT_READ),
        ),
        "list_api_keys" => (none, Admin(p::API_KEYS_MANAGE)),
        "create_api_key" => (json!({ "name": "x" }), Admin(p::API_KEYS_MANAGE)),
        "revoke_api_key" => (id, Admin(p::API_KEYS_MANAGE)),
        "create_field" => (
            json!({ "form": app::domain::fields::FieldForm::default() }),
            Admin(p::FIELDS_MANAGE),
        ),
        "update_field" => (
            json!({ "id": 1, "form": app::domain::fields::FieldForm::default() }),
            Admin(p::FIELDS_MANAGE),
        ),
        "archive_field" => (
            json!({ "id": 1, "archived": true }),
            Admin(p::FIELDS_MANAGE),
        ),
        "reorder_fields" => (json!({ "ids": [] }), Admin(p::FIELDS_MANAGE)),
        "list_role_details" => (none, Admin(p::ROLES_MANAGE)),
        "create_role" | "update_role" => (
            json!({ "id": 1, "form": { "name": "x", "description": "", "permissions": [] } }),
            Admin(p::ROLES_MANAGE),
        ),
        "delete_role" => (id, Admin(p::ROLES_MANAGE)),
        _ => return None,
    })
}

/// The server functions that take a form (they work before the WASM has loaded); the
/// server refuses a form body for every other one.
const FORM_INPUT: [&str; 4] = server::FORM_SERVER_FNS;

/// Calls `endpoint` with `body`, form encoded where the function takes a form.
async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
    body: Value,
) -> reqwest::Response {
    if !FORM_INPUT.contains(&endpoint) {
        return app.call(client, endpoint, body).await;
    }
    let pairs: Vec<(String, String)> = body
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    client
        .post(format!("{}/api/{endpoint}", app.address))
        .form(&pairs)
        .send()
        .await
        .expect("request")
}

/// An admin whose custom role's permissions the test sets before each call.
struct Probe {
    client: reqwest::Client,
    role_id: i64,
}

impl TestApp {
    async fn probe(&self) -> Probe {
        const EMAIL: &str = "probe@roster.test";
        const PASSWORD: &str = "probe-password-1";
        app::backend::auth::create_admin(&self.db, EMAIL, PASSWORD)
            .await
            .expect("create admin");
        self.exec(
            "INSERT INTO roles (name, description, built_in, created_at) VALUES ('probe', 'Test role', $1, $2)",
            vec![false.into(), chrono::Utc::now().into()],
        )
        .await;
        let role_id = self
            .scalar_i64("SELECT id FROM roles WHERE name = 'probe'", vec![])
            .await;
        self.exec(
            "UPDATE users SET role_id = $1 WHERE email = $2",
            vec![role_id.into(), EMAIL.into()],
        )
        .await;
        let probe = Probe {
            client: new_client(),
            role_id,
        };
        self.grant_all_but(&probe, "").await;
        let response = self.sign_in(&probe.client, EMAIL, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "probe sign-in");
        probe
    }

    /// The probe's role gets every permission except `missing`.
    async fn grant_all_but(&self, probe: &Probe, missing: &str) {
        self.exec(
            "DELETE FROM role_permissions WHERE role_id = $1",
            vec![probe.role_id.into()],
        )
        .await;
        for permission in ALL.iter().filter(|p| **p != missing) {
            self.exec(
                "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)",
                vec![probe.role_id.into(), (*permission).into()],
            )
            .await;
        }
    }
}

#[tokio::test]
async fn every_server_function_refuses_anonymous_callers_and_admins_without_its_permission() {
    let app = spawn_app().await;
    let probe = app.probe().await;
    let anonymous = new_client();
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    assert!(
        registered.len() >= 50,
        "the registry lists the server functions: {registered:?}"
    );
    let unknown: Vec<&String> = registered.iter().filter(|e| sample(e).is_none()).collect();
    assert!(
        unknown.is_empty(),
        "server functions with no sample call here (add one, with the permission each needs): {unknown:?}"
    );
    for endpoint in &registered {
        let (body, need) = sample(endpoint).expect("checked above");
        let response = call(&app, &anonymous, endpoint, body.clone()).await;
        let status = response.status();
        let Need::Admin(permission) = need else {
            assert!(status.as_u16() < 500, "{endpoint}: {status}");
            continue;
        };
        let error: Result<AppError, _> = response.json().await;
        assert_eq!(
            (status, error.ok()),
            (StatusCode::UNAUTHORIZED, Some(AppError::Unauthorized)),
            "{endpoint} called anonymously"
        );
        app.grant_all_but(&probe, permission).await;
        let response = call(&app, &probe.client, endpoint, body).await;
        let status = response.status();
        let error: Result<AppError, _> = response.json().await;
        let expected = if permission == p::ADMIN_ACCESS {
            // Without admin access a session is no admin session at all.
            (StatusCode::UNAUTHORIZED, Some(AppError::Unauthorized))
        } else {
            (
                StatusCode::FORBIDDEN,
                Some(AppError::Forbidden(permission.to_string())),
            )
        };
        assert_eq!(
            (status, error.ok()),
            expected,
            "{endpoint} called by an admin with every permission but {permission}"
        );
    }
}

#[tokio::test]
async fn every_http_endpoint_refuses_callers_without_its_access() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let probe = app.probe().await;
    let anonymous = new_client();
    let endpoints = server::endpoints(1024 * 1024);
    assert!(endpoints.len() >= 15, "{}", endpoints.len());
    for e in &endpoints {
        let url = format!("{}{}", app.address, e.path.replace("{id}", "1"));
        let send = |client: &reqwest::Client| {
            let request = client.request(e.method.clone(), &url);
            if e.path.ends_with("/upload") {
                let file = reqwest::multipart::Part::bytes(b"email\n".to_vec()).file_name("a.csv");
                request.multipart(reqwest::multipart::Form::new().part("file", file))
            } else if e.method == reqwest::Method::POST {
                request.json(&json!({}))
            } else {
                request
            }
        };
        let anonymous_response = send(&anonymous).send().await.expect("request");
        let anonymous_status = anonymous_response.status();
        // A browser's plain form post is sent to sign in rather than shown a 401.
        let to_sign_in = anonymous_status.is_redirection()
            && anonymous_response
                .headers()
                .get(reqwest::header::LOCATION)
                .is_some_and(|l| l.as_bytes().starts_with(b"/login"));
        let what = format!("{} {}", e.method, e.path);
        match e.access {
            Access::Public => assert!(
                ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED]
                    .contains(&anonymous_status)
                    && anonymous_status.as_u16() < 500,
                "{what} is served: {anonymous_status}"
            ),
            // Off without a token (404), refused without it (401); never served.
            Access::MetricsToken => {
                assert!(
                    [StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED].contains(&anonymous_status),
                    "{what} anonymously: {anonymous_status}"
                );
                let status = send(&app.client).send().await.expect("request").status();
                assert!(
                    [StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED].contains(&status),
                    "{what} with an admin cookie: {status}"
                );
            }
            Access::ApiKey | Access::UserToken => {
                assert_eq!(
                    anonymous_status,
                    StatusCode::UNAUTHORIZED,
                    "{what} anonymously"
                );
                // An admin's session cookie is no credential here.
                let status = send(&app.client).send().await.expect("request").status();
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{what} with an admin cookie"
                );
            }
            Access::Admin(permission) => {
                assert!(
                    anonymous_status == StatusCode::UNAUTHORIZED || to_sign_in,
                    "{what} anonymously: {anonymous_status}"
                );
                app.grant_all_but(&probe, permission).await;
                let response = send(&probe.client).send().await.expect("request");
                assert_eq!(
                    response.status(),
                    StatusCode::FORBIDDEN,
                    "{what} without {permission}"
                );
                let text = response.text().await.unwrap_or_default();
                assert!(
                    text.contains(permission),
                    "{what} names {permission}: {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_page_but_the_sign_in_pages_sends_anonymous_visitors_to_sign_in() {
    let app = spawn_app().await;
    let anonymous = new_client();
    let public = ["/login", "/account", "/account/set-password", "/"];
    let pages: Vec<String> = server::route_list()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert!(pages.len() >= 10, "{pages:?}");
    let mut wrong = Vec::new();
    for page in &pages {
        let url = format!("{}{}", app.address, page.replace("{id}", "1"));
        let response = anonymous
            .get(&url)
            .header("accept", "text/html")
            .send()
            .await
            .expect("request");
        let status = response.status();
        if public.contains(&page.as_str()) {
            // (The admin sign-in page answers 401 while nobody is signed in.)
            assert!(
                status.as_u16() < 500 && status != StatusCode::NOT_FOUND,
                "{page}: {status}"
            );
            continue;
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if !(status.is_redirection() && location.starts_with("/login?next=")) {
            wrong.push(format!("{page}: {status} to {location:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "pages not sending visitors to sign in: {wrong:#?}"
    );
}
