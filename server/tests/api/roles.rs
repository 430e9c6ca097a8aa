//! Custom roles: made by picking permissions, changed, removed; built-in roles stay
//! as the code defines them; a role's permissions are what its admins may do.

use reqwest::StatusCode;
use serde_json::json;

use app::domain::permissions::RoleDetail;
use app::domain::AppError;

use crate::helpers::{new_client, spawn_app, TestApp};

impl TestApp {
    async fn roles(&self) -> Vec<RoleDetail> {
        let response = self
            .call(&self.client, "list_role_details", json!({}))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("roles")
    }
}

#[tokio::test]
async fn a_custom_role_grants_exactly_its_permissions_and_is_audited() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let built_in: Vec<String> = app.roles().await.into_iter().map(|r| r.name).collect();
    assert_eq!(built_in, ["owner", "admin", "support", "viewer", "member"]);

    let response = app
        .call(
            &app.client,
            "create_role",
            json!({ "form": { "name": " Helpdesk ", "description": "Front line",
                "permissions": ["users.write", "admin.access", "users.read"] } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let role: RoleDetail = response.json().await.expect("role");
    assert_eq!(role.name, "helpdesk");
    assert_eq!(
        role.permissions,
        ["admin.access", "users.read", "users.write"],
        "in the permissions' own order"
    );
    assert!(!role.built_in);

    // An admin with the role may do exactly that.
    app::backend::auth::create_admin(&app.db, "desk@roster.test", "desk-password-1")
        .await
        .expect("admin");
    app.exec(
        "UPDATE users SET role_id = $1 WHERE email = 'desk@roster.test'",
        vec![role.id.into()],
    )
    .await;
    let desk = new_client();
    assert_eq!(
        app.sign_in(&desk, "desk@roster.test", "desk-password-1")
            .await
            .status(),
        StatusCode::OK
    );
    let me: app::domain::AdminInfo = desk
        .post(format!("{}/api/current_admin", app.address))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("me");
    assert_eq!(me.role, "helpdesk");
    assert_eq!(
        me.permissions,
        ["admin.access", "users.read", "users.write"]
    );
    let refused = app
        .call(
            &desk,
            "list_audit",
            json!({ "query": app::domain::audit::AuditQuery::default() }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Changed: the admin has the new permissions on their next call.
    let response = app
        .call(
            &app.client,
            "update_role",
            json!({ "id": role.id, "form": { "name": "helpdesk", "description": "Front line",
                "permissions": ["admin.access", "users.read", "audit.read"] } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let allowed = app
        .call(
            &desk,
            "list_audit",
            json!({ "query": app::domain::audit::AuditQuery::default() }),
        )
        .await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let refused = app
        .call(
            &desk,
            "set_user_status",
            json!({ "id": 1, "status": "Banned" }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // In use: cannot be deleted; unused: gone.
    let response = app
        .call(&app.client, "delete_role", json!({ "id": role.id }))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error: AppError = response.json().await.expect("error");
    assert_eq!(
        error,
        AppError::Conflict("1 user has the role helpdesk: give them another role first.".into())
    );
    app.exec(
        "UPDATE users SET role_id = (SELECT id FROM roles WHERE name = 'viewer') WHERE email = 'desk@roster.test'",
        vec![],
    )
    .await;
    let response = app
        .call(&app.client, "delete_role", json!({ "id": role.id }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(app.roles().await.iter().all(|r| r.name != "helpdesk"));

    for action in ["role.create", "role.update", "role.delete"] {
        assert_eq!(app.audit(action).await.len(), 1, "{action}");
    }
    let update = app.audit("role.update").await;
    assert!(
        update[0]
            .before
            .as_ref()
            .is_some_and(|b| b.to_string().contains("users.write"))
            && update[0]
                .after
                .as_ref()
                .is_some_and(|a| a.to_string().contains("audit.read")),
        "before and after: {:?}",
        update[0]
    );
}

#[tokio::test]
async fn built_in_roles_stay_and_bad_forms_are_refused_by_field() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let roles = app.roles().await;
    let viewer = roles.iter().find(|r| r.name == "viewer").expect("viewer");
    assert!(viewer.built_in);
    let response = app
        .call(
            &app.client,
            "update_role",
            json!({ "id": viewer.id, "form": { "name": "viewer", "description": "",
                "permissions": ["admin.access", "users.read", "users.delete"] } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = app
        .call(&app.client, "delete_role", json!({ "id": viewer.id }))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    let response = app
        .call(
            &app.client,
            "create_role",
            json!({ "form": { "name": "viewer", "description": "", "permissions": ["users.fly"] } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: AppError = response.json().await.expect("error");
    assert!(
        error.field_messages("name").is_empty(),
        "the form is checked before the database is asked"
    );
    assert_eq!(
        error.field_messages("permissions"),
        vec!["Unknown permission: users.fly.".to_string()]
    );
    let response = app
        .call(
            &app.client,
            "create_role",
            json!({ "form": { "name": "viewer", "description": "", "permissions": [] } }),
        )
        .await;
    let error: AppError = response.json().await.expect("error");
    assert_eq!(
        error.field_messages("name"),
        vec!["A role named viewer already exists.".to_string()]
    );
    assert_eq!(app.roles().await.len(), roles.len(), "nothing was written");
}
