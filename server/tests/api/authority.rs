//! The privilege matrix, generated from the rule (`may_act_on`): every command that
//! touches an account, by every actor role (owner, admin, support, viewer and a custom
//! role) on a fresh user of every role. The test derives each expected answer from the
//! rule and the command's permission, and checks both the answer and whether the
//! target account changed. Every server function must be listed here as touching
//! accounts or not, so a new one fails until it is placed; one that changes accounts
//! while listed as not touching them fails the "notes" check below.
//!
//! Also here: one regression test per attack that was seen, the last-owner guard and
//! roles authored within their author's permissions.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use app::domain::permissions::{self as p, may_act_on, BUILT_IN_ROLES};
use app::domain::transfer::{ImportJob, JobState};
use app::domain::{AppError, BulkAction, Selection, Status, UserQuery};

use crate::helpers::{edit_form, new_client, spawn_app, TestApp, TestUser};

/// The custom role of the matrix: manages roles and most of users, but cannot read
/// the audit log, export, manage fields or API keys.
const CLERK: [&str; 8] = [
    p::ADMIN_ACCESS,
    p::USERS_READ,
    p::USERS_WRITE,
    p::USERS_DELETE,
    p::USERS_SESSIONS,
    p::USERS_PASSWORDS,
    p::USERS_IMPORT,
    p::ROLES_MANAGE,
];
const ACTORS: [&str; 5] = ["owner", "admin", "support", "viewer", "clerk"];
const TARGETS: [&str; 6] = ["owner", "admin", "support", "viewer", "clerk", "member"];

/// Server functions that change an account (covered by the matrix below).
const ACCOUNT_COMMANDS: [&str; 15] = [
    "update_user",
    "set_user_tags",
    "set_user_groups",
    "remove_device",
    "delete_timeline_entry",
    "set_user_status",
    "undo_status_change",
    "delete_user",
    "undo_delete",
    "bulk_users",
    "reset_password",
    "send_invitation",
    "sign_out_everywhere",
    "create_users",
    "apply_import",
];

/// Server functions that read, or write only admins' own notes and settings; they
/// must leave every account as it is (checked for those taking a user).
const OTHER_FUNCTIONS: [&str; 46] = [
    "sign_in",
    "change_my_password",
    "sign_out",
    "current_admin",
    "get_hidden_columns",
    "get_field_columns",
    "save_hidden_columns",
    "save_field_columns",
    "list_users",
    "count_users",
    "get_user",
    "list_tags",
    "list_roles",
    "list_groups",
    "due_reminders",
    "due_reminder_count",
    "list_fields",
    "user_timeline",
    "user_reminders",
    "list_comments",
    "add_timeline_entry",
    "add_reminder",
    "update_reminder",
    "delete_reminder",
    "add_comment",
    "delete_comment",
    "create_group",
    "rename_group",
    "delete_group",
    "list_imports",
    "get_import",
    "export_progress",
    "get_bulk_job",
    "list_outbox",
    "list_audit",
    "list_api_keys",
    "create_api_key",
    "revoke_api_key",
    "create_field",
    "update_field",
    "archive_field",
    "reorder_fields",
    "list_role_details",
    "create_role",
    "update_role",
    "delete_role",
];

/// One way of acting on an account.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Case {
    Edit,
    Tags,
    Groups,
    RemoveDevice,
    DeleteActivity,
    Ban,
    /// The owner bans the target; the actor undoes the ban.
    UndoBan,
    Delete,
    UndoDelete,
    Bulk(BulkKind),
    ResetLink,
    ResetTemporary,
    Invite,
    SignOutEverywhere,
    ImportField,
    ImportPassword,
    /// Creating a user with the target's role (the role is what is acted on).
    CreateWithRole,
    /// Giving a member the target's role in bulk.
    GiveRole,
    /// A ban of "all matching" (a tag only the target has): a background job.
    BulkMatching,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum BulkKind {
    Ban,
    AddTag,
    RemoveTag,
    AddToGroup,
    RemoveFromGroup,
    SetRoleMember,
    Delete,
}

const CASES: [Case; 25] = [
    Case::Edit,
    Case::Tags,
    Case::Groups,
    Case::RemoveDevice,
    Case::DeleteActivity,
    Case::Ban,
    Case::UndoBan,
    Case::Delete,
    Case::UndoDelete,
    Case::Bulk(BulkKind::Ban),
    Case::Bulk(BulkKind::AddTag),
    Case::Bulk(BulkKind::RemoveTag),
    Case::Bulk(BulkKind::AddToGroup),
    Case::Bulk(BulkKind::RemoveFromGroup),
    Case::Bulk(BulkKind::SetRoleMember),
    Case::Bulk(BulkKind::Delete),
    Case::ResetLink,
    Case::ResetTemporary,
    Case::Invite,
    Case::SignOutEverywhere,
    Case::ImportField,
    Case::ImportPassword,
    Case::CreateWithRole,
    Case::GiveRole,
    Case::BulkMatching,
];

impl Case {
    fn permission(self) -> &'static str {
        match self {
            Case::Delete | Case::UndoDelete | Case::Bulk(BulkKind::Delete) => p::USERS_DELETE,
            Case::ResetLink | Case::ResetTemporary | Case::Invite => p::USERS_PASSWORDS,
            Case::SignOutEverywhere => p::USERS_SESSIONS,
            Case::ImportField | Case::ImportPassword => p::USERS_IMPORT,
            _ => p::USERS_WRITE,
        }
    }
}

fn role_permissions(role: &str) -> Vec<&'static str> {
    if role == "clerk" {
        return CLERK.to_vec();
    }
    BUILT_IN_ROLES
        .iter()
        .find(|(name, _, _)| *name == role)
        .map(|(_, _, list)| list.to_vec())
        .unwrap_or_else(|| panic!("no role {role}"))
}

/// What the rule says: may `actor` do `case` to a user of role `target`?
fn expected(case: Case, actor: &str, target: &str) -> bool {
    let actor = role_permissions(actor);
    actor.contains(&case.permission()) && may_act_on(&actor, &role_permissions(target)).is_ok()
}

struct Matrix {
    clients: Vec<(&'static str, reqwest::Client)>,
    role_ids: Vec<(&'static str, i64)>,
    next: u32,
}

impl Matrix {
    fn role_id(&self, role: &str) -> i64 {
        self.role_ids
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, id)| *id)
            .expect("role id")
    }
}

impl TestApp {
    async fn matrix(&self) -> Matrix {
        self.sign_in_owner().await;
        self.exec(
            "INSERT INTO roles (name, description, built_in, created_at) VALUES ('clerk', 'Custom', $1, $2)",
            vec![false.into(), chrono::Utc::now().into()],
        )
        .await;
        let clerk = self
            .scalar_i64("SELECT id FROM roles WHERE name = 'clerk'", vec![])
            .await;
        for permission in CLERK {
            self.exec(
                "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)",
                vec![clerk.into(), permission.into()],
            )
            .await;
        }
        let mut clients = Vec::new();
        for actor in ACTORS {
            let email = format!("actor.{actor}@roster.test");
            clients.push((actor, self.sign_in_as(&email, actor).await));
        }
        let mut role_ids = Vec::new();
        for role in TARGETS {
            role_ids.push((
                role,
                self.scalar_i64("SELECT id FROM roles WHERE name = $1", vec![role.into()])
                    .await,
            ));
        }
        Matrix {
            clients,
            role_ids,
            next: 0,
        }
    }

    /// A fresh active user of `role` with a tag, a group, a device, an activity and a
    /// session (so every command has something to change), without a password.
    async fn target(&self, m: &mut Matrix, role: &'static str) -> (i64, String) {
        m.next += 1;
        let mut user = TestUser::new("Target", &format!("N{}", m.next));
        user.role = if role == "clerk" { "member" } else { role };
        user.tags = vec!["Matrix"];
        let email = user.email.clone();
        let id = self.insert_user(user).await;
        if role == "clerk" {
            self.exec(
                "UPDATE users SET role_id = $1 WHERE id = $2",
                vec![m.role_id("clerk").into(), id.into()],
            )
            .await;
        }
        let now = chrono::Utc::now();
        self.exec(
            "INSERT INTO groups (name, created_at) VALUES ('Matrix', $1) ON CONFLICT DO NOTHING",
            vec![now.into()],
        )
        .await;
        self.exec(
            "INSERT INTO user_groups (user_id, group_id) SELECT $1, id FROM groups WHERE name = 'Matrix'",
            vec![id.into()],
        )
        .await;
        // A tag only this user has, for "all matching" commands.
        self.exec(
            "INSERT INTO tags (name, created_at) VALUES ($1, $2)",
            vec![format!("Only{}", m.next).into(), now.into()],
        )
        .await;
        self.exec(
            "INSERT INTO user_tags (user_id, tag_id) SELECT $1, id FROM tags WHERE name = $2",
            vec![id.into(), format!("Only{}", m.next).into()],
        )
        .await;
        self.exec(
            "INSERT INTO devices (user_id, name, platform, created_at) VALUES ($1, 'Pixel', 'Android', $2)",
            vec![id.into(), now.into()],
        )
        .await;
        self.exec(
            "INSERT INTO activities (user_id, at, kind, name) VALUES ($1, $2, 'page_view', '/home')",
            vec![id.into(), now.into()],
        )
        .await;
        self.exec(
            "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, 'user', $3, $3, $4)",
            vec![
                format!("matrix-{id}").into(),
                id.into(),
                now.into(),
                (now + chrono::Duration::days(1)).into(),
            ],
        )
        .await;
        (id, email)
    }

    /// Everything about an account a command could change, as one comparable text.
    async fn account_state(&self, id: i64) -> String {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                self.backend(),
                "SELECT status, role_id, version, coalesce(password_hash, '') AS password_hash, \
                 job_title, must_change_password, \
                 (SELECT CAST(count(*) * 1000000 + coalesce(sum(t.tag_id), 0) AS BIGINT) FROM user_tags t WHERE t.user_id = u.id) AS tags, \
                 (SELECT CAST(count(*) * 1000000 + coalesce(sum(g.group_id), 0) AS BIGINT) FROM user_groups g WHERE g.user_id = u.id) AS groups, \
                 (SELECT count(*) FROM devices d WHERE d.user_id = u.id) AS devices, \
                 (SELECT count(*) FROM activities a WHERE a.user_id = u.id) AS activities, \
                 (SELECT count(*) FROM sessions s WHERE s.user_id = u.id) AS sessions, \
                 (SELECT count(*) FROM tokens k WHERE k.user_id = u.id) AS tokens \
                 FROM users u WHERE u.id = $1",
                vec![id.into()],
            ))
            .await
            .expect("state query");
        let Some(r) = row else {
            return "gone".into();
        };
        let text = |c: &str| r.try_get::<String>("", c).expect(c);
        let int = |c: &str| {
            r.try_get::<i64>("", c)
                .or_else(|_| r.try_get::<i32>("", c).map(i64::from))
                .expect(c)
        };
        format!(
            "{} role={} v={} pw={} job={} must={} tags={} groups={} devices={} activities={} sessions={} tokens={}",
            text("status"),
            int("role_id"),
            int("version"),
            text("password_hash"),
            text("job_title"),
            r.try_get::<bool>("", "must_change_password").expect("must"),
            int("tags"),
            int("groups"),
            int("devices"),
            int("activities"),
            int("sessions"),
            int("tokens"),
        )
    }

    /// Uploads `csv` as `client` and waits until the job settles.
    async fn import_as(&self, client: &reqwest::Client, csv: String) -> ImportJob {
        self.try_import_as(client, csv)
            .await
            .unwrap_or_else(|status| panic!("upload: {status}"))
    }

    /// The settled job, or the upload's status when it was refused.
    async fn try_import_as(
        &self,
        client: &reqwest::Client,
        csv: String,
    ) -> Result<ImportJob, StatusCode> {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("matrix.csv"),
        );
        let response = client
            .post(format!("{}/imports/upload", self.address))
            .header("x-roster-fetch", "1")
            .multipart(form)
            .send()
            .await
            .expect("upload");
        if response.status() != StatusCode::CREATED {
            return Err(response.status());
        }
        let id = response.json::<Value>().await.expect("JSON")["id"]
            .as_i64()
            .expect("id");
        Ok(self.settled_job(id).await)
    }

    async fn settled_job(&self, id: i64) -> ImportJob {
        for _ in 0..1200 {
            let response = self
                .call(&self.client, "get_import", json!({ "id": id }))
                .await;
            let text = response.text().await.expect("body");
            let job: ImportJob =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            if !job.state.running() {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("import {id} is still running");
    }
}

/// Runs `case` as `client` on user `id` (of role `target`); returns whether the server
/// answered with success, and its status.
async fn run(
    app: &TestApp,
    m: &Matrix,
    client: &reqwest::Client,
    case: Case,
    target: &str,
    id: i64,
    email: &str,
) -> (bool, StatusCode) {
    let call = |endpoint: &'static str, body: Value| async move {
        let response = app.call(client, endpoint, body).await;
        let status = response.status();
        (status.is_success(), status)
    };
    let bulk =
        |action: BulkAction| json!({ "selection": Selection::Ids(vec![id]), "action": action });
    match case {
        Case::Edit => {
            let mut form = edit_form(&app.user_detail(id).await);
            form["job_title"] = json!("Changed by the matrix");
            call("update_user", json!({ "id": id, "form": form })).await
        }
        Case::Tags => call("set_user_tags", json!({ "id": id, "names": ["Other"] })).await,
        Case::Groups => call("set_user_groups", json!({ "id": id, "names": ["Other"] })).await,
        Case::RemoveDevice => {
            let device = app
                .scalar_i64("SELECT id FROM devices WHERE user_id = $1", vec![id.into()])
                .await;
            call(
                "remove_device",
                json!({ "user_id": id, "device_id": device }),
            )
            .await
        }
        Case::DeleteActivity => {
            let activity = app
                .scalar_i64(
                    "SELECT id FROM activities WHERE user_id = $1",
                    vec![id.into()],
                )
                .await;
            call(
                "delete_timeline_entry",
                json!({ "user_id": id, "activity_id": activity }),
            )
            .await
        }
        Case::Ban => {
            call(
                "set_user_status",
                json!({ "id": id, "status": Status::Banned }),
            )
            .await
        }
        Case::UndoBan => {
            let response = app
                .call(
                    &app.client,
                    "set_user_status",
                    json!({ "id": id, "status": Status::Banned }),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "the owner bans");
            let change: i64 = response.json().await.expect("change id");
            call("undo_status_change", json!({ "change_id": change })).await
        }
        Case::Delete => call("delete_user", json!({ "id": id })).await,
        Case::UndoDelete => {
            let response = app
                .call(&app.client, "delete_user", json!({ "id": id }))
                .await;
            assert_eq!(response.status(), StatusCode::OK, "the owner deletes");
            let deletion: i64 = response.json().await.expect("deletion id");
            call("undo_delete", json!({ "deletion_id": deletion })).await
        }
        Case::Bulk(kind) => {
            let action = match kind {
                BulkKind::Ban => BulkAction::SetStatus(Status::Banned),
                BulkKind::AddTag => BulkAction::AddTag("Added".into()),
                BulkKind::RemoveTag => BulkAction::RemoveTag("Matrix".into()),
                BulkKind::AddToGroup => BulkAction::AddToGroup("Added".into()),
                BulkKind::RemoveFromGroup => BulkAction::RemoveFromGroup("Matrix".into()),
                BulkKind::SetRoleMember => BulkAction::SetRole(m.role_id("member")),
                BulkKind::Delete => BulkAction::Delete,
            };
            call("bulk_users", bulk(action)).await
        }
        Case::BulkMatching => {
            // The tag `target` gave the user just made (the matrix's latest).
            let query = UserQuery::from_query_string(&format!("tags=Only{}", m.next));
            let body = json!({
                "selection": Selection::Matching(query),
                "action": BulkAction::SetStatus(Status::Banned),
            });
            call("bulk_users", body).await
        }
        Case::ResetLink => call("reset_password", json!({ "id": id, "mode": "Link" })).await,
        Case::ResetTemporary => {
            call("reset_password", json!({ "id": id, "mode": "Temporary" })).await
        }
        Case::Invite => call("send_invitation", json!({ "id": id })).await,
        Case::SignOutEverywhere => call("sign_out_everywhere", json!({ "id": id })).await,
        Case::ImportField | Case::ImportPassword => {
            let csv = if case == Case::ImportField {
                format!("email,job_title\n{email},Imported by the matrix\n")
            } else {
                format!("email,password\n{email},matrix-password-1\n")
            };
            let job = match app.try_import_as(client, csv).await {
                Ok(job) => job,
                Err(status) => return (false, status),
            };
            assert_eq!(job.state, JobState::Previewed, "{job:?}");
            let applied = app
                .call(
                    client,
                    "apply_import",
                    json!({ "id": job.id, "skip_invalid": true }),
                )
                .await;
            let status = applied.status();
            let job = app.settled_job(job.id).await;
            let report = job.report.expect("report");
            if status.is_success() && report.rejected > 0 {
                // A refused row is the import's refusal.
                return (false, StatusCode::UNPROCESSABLE_ENTITY);
            }
            (status.is_success(), status)
        }
        Case::CreateWithRole | Case::GiveRole => unreachable!("{target}: see give_role"),
    }
}

/// Creates a user with role `target`, or gives it to member `id` in bulk.
async fn give_role(
    app: &TestApp,
    m: &Matrix,
    client: &reqwest::Client,
    case: Case,
    target: &str,
    id: i64,
) -> (bool, StatusCode, Option<String>) {
    let role_id = m.role_id(target);
    let response = if case == Case::CreateWithRole {
        let email = format!("created.{}.{target}@roster.test", id);
        let form = json!({
            "first_name": "New", "last_name": "User", "email": email,
            "username": format!("created_{id}_{target}"),
            "phone": "", "role_id": role_id, "groups": [], "language": "en",
            "password_choice": "Invite", "password": ""
        });
        let response = app
            .call(client, "create_users", json!({ "users": [form] }))
            .await;
        if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
            let text = response.text().await.unwrap_or_default();
            assert!(
                text.contains("role"),
                "create_users refused for another reason: {text}"
            );
            return (false, StatusCode::UNPROCESSABLE_ENTITY, Some(email));
        }
        (response, Some(email))
    } else {
        let body = json!({
            "selection": Selection::Ids(vec![id]), "action": BulkAction::SetRole(role_id)
        });
        (app.call(client, "bulk_users", body).await, None)
    };
    let status = response.0.status();
    (status.is_success(), status, response.1)
}

#[tokio::test]
async fn every_account_command_follows_the_rule_for_every_actor_and_target_role() {
    let app = spawn_app().await;
    let mut m = app.matrix().await;

    // Every server function is placed: a new one fails here until it is.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    let placed: BTreeSet<String> = ACCOUNT_COMMANDS
        .iter()
        .chain(OTHER_FUNCTIONS.iter())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        registered.difference(&placed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "server functions not placed in ACCOUNT_COMMANDS or OTHER_FUNCTIONS"
    );

    let mut wrong = Vec::new();
    let mut checked = 0;
    for case in CASES {
        for (actor, client) in m.clients.clone() {
            for target in TARGETS {
                let want = expected(case, actor, target);
                let (id, email) = app
                    .target(
                        &mut m,
                        if matches!(case, Case::CreateWithRole | Case::GiveRole) {
                            "member"
                        } else {
                            target
                        },
                    )
                    .await;
                let before = app.account_state(id).await;
                let (ok, status, created) = if matches!(case, Case::CreateWithRole | Case::GiveRole)
                {
                    give_role(&app, &m, &client, case, target, id).await
                } else {
                    let (ok, status) = run(&app, &m, &client, case, target, id, &email).await;
                    (ok, status, None)
                };
                let after = app.account_state(id).await;
                let changed = match &created {
                    Some(email) => {
                        app.scalar_i64(
                            "SELECT count(*) FROM users WHERE email = $1",
                            vec![email.clone().into()],
                        )
                        .await
                            > 0
                    }
                    // The undo brings the user back exactly as they were.
                    None if case == Case::UndoDelete => after != "gone",
                    // The undo sets the target active again.
                    None if case == Case::UndoBan => after.starts_with("active "),
                    None => before != after,
                };
                // Giving a member the member role changes nothing, but is allowed.
                let no_op = target == "member"
                    && matches!(case, Case::Bulk(BulkKind::SetRoleMember) | Case::GiveRole);
                let refused_ok =
                    [StatusCode::FORBIDDEN, StatusCode::UNPROCESSABLE_ENTITY].contains(&status);
                let right = if want {
                    ok && (changed || no_op)
                } else {
                    !ok && refused_ok && !changed
                };
                if !right {
                    wrong.push(format!(
                        "{case:?} by {actor} on {target}: expected {}, got {status} (changed: {changed})",
                        if want { "success" } else { "refusal" }
                    ));
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, CASES.len() * ACTORS.len() * TARGETS.len());
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn commands_on_notes_leave_accounts_as_they_are() {
    let app = spawn_app().await;
    let mut m = app.matrix().await;
    let (_, support) = m.clients[2].clone();
    let (id, _) = app.target(&mut m, "owner").await;
    let before = app.account_state(id).await;
    for (endpoint, body) in [
        ("add_comment", json!({ "user_id": id, "body": "A note" })),
        (
            "add_timeline_entry",
            json!({ "user_id": id, "text": "Called", "at": null }),
        ),
        (
            "add_reminder",
            json!({ "user_id": id, "due_at": 0, "body": "Call back" }),
        ),
    ] {
        let response = app.call(&support, endpoint, body).await;
        assert!(
            response.status().is_success(),
            "{endpoint}: {}",
            response.status()
        );
    }
    // add_timeline_entry adds an activity, which is the admins' own note.
    let after = app.account_state(id).await;
    let without_activities = |s: &str| {
        s.split(' ')
            .filter(|part| !part.starts_with("activities="))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(without_activities(&after), without_activities(&before));
}

// ---------------------------------------------------------------------------------
// The attacks that were seen, one test each.

#[tokio::test]
async fn an_admin_cannot_set_the_owners_password_through_an_import() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let admin = app.sign_in_as("admin@roster.test", "admin").await;
    let before = app
        .account_state(app.user_id(crate::helpers::ADMIN_EMAIL).await)
        .await;

    let job = app
        .import_as(
            &admin,
            format!(
                "email,password\n{},taken-over-password-1\n",
                crate::helpers::ADMIN_EMAIL
            ),
        )
        .await;
    let report = job.report.clone().expect("report");
    assert_eq!(report.rejected, 1, "{report:?}");
    assert_eq!(
        report.rejected_rows[0].errors[0].message,
        "Only admins who manage roles can change an admin."
    );
    let applied = app
        .call(
            &admin,
            "apply_import",
            json!({ "id": job.id, "skip_invalid": true }),
        )
        .await;
    assert_eq!(applied.status(), StatusCode::OK);
    app.settled_job(job.id).await;

    let attacker = new_client();
    let response = app
        .sign_in(
            &attacker,
            crate::helpers::ADMIN_EMAIL,
            "taken-over-password-1",
        )
        .await;
    assert_ne!(
        response.status(),
        StatusCode::OK,
        "the admin signed in as the owner"
    );
    assert_eq!(
        app.account_state(app.user_id(crate::helpers::ADMIN_EMAIL).await)
            .await,
        before
    );
}

#[tokio::test]
async fn support_reads_no_admins_link_in_the_outbox_and_cannot_invite_or_sign_out_admins() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let support = app.sign_in_as("support@roster.test", "support").await;
    let mut colleague = TestUser::new("Alan", "Admin");
    colleague.role = "admin";
    let admin_id = app.insert_user(colleague).await;
    let member_id = app.insert_user(TestUser::new("Mia", "Member")).await;

    // The owner sends the admin an invitation (they have no password yet), and
    // support sends the member one.
    let response = app
        .call(&app.client, "send_invitation", json!({ "id": admin_id }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .call(&support, "send_invitation", json!({ "id": member_id }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let outbox = |client: reqwest::Client| {
        let app = &app;
        async move {
            let response = app.call(&client, "list_outbox", json!({})).await;
            assert_eq!(response.status(), StatusCode::OK);
            response
                .json::<Vec<app::domain::email::OutboxEmail>>()
                .await
                .expect("emails")
        }
    };
    let seen_by_support = outbox(support.clone()).await;
    let seen_by_owner = outbox(app.client.clone()).await;
    let body = |list: &[app::domain::email::OutboxEmail], to: &str| {
        list.iter()
            .find(|e| e.to == to)
            .map(|e| e.body.clone())
            .expect("an email")
    };
    let admin_email = "alan.admin@example.com";
    assert!(body(&seen_by_owner, admin_email).contains("token="));
    let hidden = body(&seen_by_support, admin_email);
    assert!(
        !hidden.contains("token="),
        "support sees the admin's link: {hidden}"
    );
    assert!(hidden.contains("A link was sent"), "{hidden}");
    assert!(
        body(&seen_by_support, "mia.member@example.com").contains("token="),
        "support sees the link they may send themselves"
    );

    // Support can neither invite the admin nor end their sessions, nor the owner's.
    let owner_id = app.user_id(crate::helpers::ADMIN_EMAIL).await;
    for (endpoint, id) in [
        ("send_invitation", admin_id),
        ("sign_out_everywhere", admin_id),
        ("sign_out_everywhere", owner_id),
        ("reset_password", admin_id),
    ] {
        let response = app
            .call(&support, endpoint, json!({ "id": id, "mode": "Link" }))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{endpoint} {id}");
        let error: AppError = response.json().await.expect("error");
        assert!(
            matches!(&error, AppError::Forbidden(missing) if missing.contains(p::ROLES_MANAGE) && missing.contains(p::USERS_DELETE)),
            "{endpoint} {id}: {error:?}"
        );
    }
    // The owner's session still works.
    let response = app.call(&app.client, "current_admin", json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_import_is_applied_with_the_uploaders_rights_not_the_appliers() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let admin = app.sign_in_as("admin@roster.test", "admin").await;
    let admin_id = app.user_id("admin@roster.test").await;
    let member_id = app.insert_user(TestUser::new("Mia", "Member")).await;
    let before = app.account_state(admin_id).await;

    // The admin uploads a file making themselves owner; the preview refuses it.
    let job = app
        .import_as(
            &admin,
            "email,role,job_title\nadmin@roster.test,owner,\nmia.member@example.com,,Pilot\n"
                .into(),
        )
        .await;
    let report = job.report.clone().expect("report");
    assert_eq!((report.rejected, report.updated), (1, 1), "{report:?}");

    // The owner applies it, skipping rejected rows: the admin's row still does not
    // go through, and the rest is applied as previewed.
    let response = app
        .call(
            &app.client,
            "apply_import",
            json!({ "id": job.id, "skip_invalid": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let job = app.settled_job(job.id).await;
    assert_eq!(job.state, JobState::Applied, "{job:?}");
    assert_eq!(
        app.account_state(admin_id).await,
        before,
        "the admin is no owner"
    );
    assert_eq!(app.user_detail(member_id).await.job_title, "Pilot");
}

#[tokio::test]
async fn an_apply_whose_plan_differs_from_the_preview_writes_nothing() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let admin = app.sign_in_as("admin@roster.test", "admin").await;
    let mut target = TestUser::new("Vic", "Viewer");
    target.role = "member";
    let id = app.insert_user(target).await;
    let job = app
        .import_as(
            &admin,
            "email,job_title\nvic.viewer@example.com,Pilot\n".into(),
        )
        .await;
    assert_eq!(job.report.clone().expect("report").updated, 1);

    // Meanwhile the user becomes a viewer (an admin account the uploader may not change).
    app.exec(
        "UPDATE users SET role_id = (SELECT id FROM roles WHERE name = 'viewer') WHERE id = $1",
        vec![id.into()],
    )
    .await;
    let before = app.account_state(id).await;
    let response = app
        .call(
            &app.client,
            "apply_import",
            json!({ "id": job.id, "skip_invalid": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let job = app.settled_job(job.id).await;
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    assert!(
        job.error.as_deref().is_some_and(|e| e.starts_with(
            "Nothing was written: applying now would do something other than the preview showed"
        )),
        "{job:?}"
    );
    assert_eq!(app.account_state(id).await, before);
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_banned_or_deleted() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    // A custom role with every permission: it may act on the owner by the rule.
    app.exec(
        "INSERT INTO roles (name, description, built_in, created_at) VALUES ('super', 'All', $1, $2)",
        vec![false.into(), chrono::Utc::now().into()],
    )
    .await;
    let super_role = app
        .scalar_i64("SELECT id FROM roles WHERE name = 'super'", vec![])
        .await;
    for permission in p::ALL {
        app.exec(
            "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)",
            vec![super_role.into(), permission.into()],
        )
        .await;
    }
    let root = app.sign_in_as("root@roster.test", "admin").await;
    app.exec(
        "UPDATE users SET role_id = $1 WHERE email = 'root@roster.test'",
        vec![super_role.into()],
    )
    .await;
    let owner = app.user_id(crate::helpers::ADMIN_EMAIL).await;
    let member = app
        .scalar_i64("SELECT id FROM roles WHERE name = 'member'", vec![])
        .await;
    let before = app.account_state(owner).await;
    let mut form = edit_form(&app.user_detail(owner).await);
    form["role_id"] = json!(member);
    for (endpoint, body) in [
        (
            "set_user_status",
            json!({ "id": owner, "status": Status::Banned }),
        ),
        ("delete_user", json!({ "id": owner })),
        (
            "bulk_users",
            json!({ "selection": Selection::Ids(vec![owner]), "action": BulkAction::SetRole(member) }),
        ),
        ("update_user", json!({ "id": owner, "form": form })),
    ] {
        let response = app.call(&root, endpoint, body).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{endpoint}");
        let me = app.call(&app.client, "current_admin", json!({})).await;
        assert_eq!(me.status(), StatusCode::OK, "after {endpoint}");
        let error: AppError = response.json().await.expect("error");
        assert_eq!(
            error,
            AppError::Conflict(
                "The last owner cannot be demoted, banned or deleted: make another user an owner first."
                    .into()
            ),
            "{endpoint}"
        );
    }
    let job = app
        .import_as(
            &root,
            format!("email,status\n{},banned\n", crate::helpers::ADMIN_EMAIL),
        )
        .await;
    let response = app
        .call(
            &root,
            "apply_import",
            json!({ "id": job.id, "skip_invalid": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let job = app.settled_job(job.id).await;
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    assert_eq!(app.account_state(owner).await, before);

    // With a second owner, the first can be banned.
    let response = app
        .call(
            &root,
            "bulk_users",
            json!({ "selection": Selection::Ids(vec![app.user_id("root@roster.test").await]), "action": BulkAction::SetRole(app.scalar_i64("SELECT id FROM roles WHERE name = 'owner'", vec![]).await) }),
        )
        .await;
    // (Nobody changes their own role: the actor is spared in bulk.)
    assert_eq!(response.status(), StatusCode::OK);
    let second = app.sign_in_as("second.owner@roster.test", "owner").await;
    let response = app
        .call(
            &second,
            "set_user_status",
            json!({ "id": owner, "status": Status::Banned }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn roles_hold_only_permissions_their_author_holds() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    // A role manager without users.delete.
    app.exec(
        "INSERT INTO roles (name, description, built_in, created_at) VALUES ('keeper', 'Roles', $1, $2)",
        vec![false.into(), chrono::Utc::now().into()],
    )
    .await;
    let keeper_role = app
        .scalar_i64("SELECT id FROM roles WHERE name = 'keeper'", vec![])
        .await;
    for permission in [p::ADMIN_ACCESS, p::USERS_READ, p::ROLES_MANAGE] {
        app.exec(
            "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)",
            vec![keeper_role.into(), permission.into()],
        )
        .await;
    }
    let keeper = app.sign_in_as("keeper@roster.test", "admin").await;
    app.exec(
        "UPDATE users SET role_id = $1 WHERE email = 'keeper@roster.test'",
        vec![keeper_role.into()],
    )
    .await;
    let form = |permissions: &[&str]| json!({ "name": "deleter", "description": "", "permissions": permissions });

    let response = app
        .call(
            &keeper,
            "create_role",
            json!({ "form": form(&[p::ADMIN_ACCESS, p::USERS_DELETE]) }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: AppError = response.json().await.expect("error");
    let AppError::Validation(fields) = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        fields["permissions"],
        vec!["You can only give a role permissions you hold yourself; you lack users.delete."]
    );

    // Within their own permissions it works; the owner's wider role cannot be changed
    // or deleted by them.
    let response = app
        .call(
            &keeper,
            "create_role",
            json!({ "form": form(&[p::ADMIN_ACCESS, p::USERS_READ]) }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let wide = app
        .call(
            &app.client,
            "create_role",
            json!({ "form": { "name": "wide", "description": "", "permissions": [p::ADMIN_ACCESS, p::USERS_DELETE] } }),
        )
        .await
        .json::<Value>()
        .await
        .expect("role")["id"]
        .as_i64()
        .expect("id");
    let response = app
        .call(
            &keeper,
            "update_role",
            json!({ "id": wide, "form": { "name": "wide", "description": "", "permissions": [p::ADMIN_ACCESS] } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app
        .call(&keeper, "delete_role", json!({ "id": wide }))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let permissions = app
        .scalar_i64(
            "SELECT count(*) FROM role_permissions WHERE role_id = $1",
            vec![wide.into()],
        )
        .await;
    assert_eq!(permissions, 2, "the wide role is unchanged");
}

/// Two commands each taking away one of the last two owners at the same time: on
/// PostgreSQL each counts the other's owner as still active, so the second to finish
/// must wait for the first to commit and count again. (SQLite runs one writing
/// command at a time: the second begins after the first committed.)
#[tokio::test]
async fn two_commands_cannot_take_away_the_last_two_owners_at_once() {
    use app::backend::authority::OwnerGuard;
    use app::backend::dialect::Run;
    use app::backend::sql::Sql;
    use sea_orm::TransactionTrait;
    let app = spawn_app().await;
    app.sign_in_owner().await;
    if app.backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let _second = app.sign_in_as("second.owner@roster.test", "owner").await;
    let first = app.user_id(crate::helpers::ADMIN_EMAIL).await;
    let second = app.user_id("second.owner@roster.test").await;
    let ban = |id: i64| {
        let mut s = Sql::new("UPDATE users SET status = 'banned' WHERE id = ");
        s.bind(id);
        s
    };
    let a = app.db.begin().await.expect("begin a");
    let b = app.db.begin().await.expect("begin b");
    let guard_a = OwnerGuard::start(&a).await.expect("a counts");
    let guard_b = OwnerGuard::start(&b).await.expect("b counts");
    a.exec(ban(first)).await.expect("a bans the first owner");
    b.exec(ban(second)).await.expect("b bans the second owner");
    guard_a.check(&a).await.expect("one owner is left for a");
    // b's check waits for a, then finds no owner left.
    let checked_b = tokio::spawn(async move {
        let checked = guard_b.check(&b).await;
        (checked, b)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!checked_b.is_finished(), "b waits for a to commit");
    a.commit().await.expect("a commits");
    let (checked, b) = checked_b.await.expect("b's check");
    let refused = checked.expect_err("b would leave no owner");
    assert!(
        refused.to_string().contains("The last owner cannot be"),
        "{refused}"
    );
    b.rollback().await.expect("b rolls back");
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM users WHERE status = 'active' AND role_id = (SELECT id FROM roles WHERE name = 'owner')",
            vec![]
        )
        .await,
        1,
        "one owner is left"
    );
}
