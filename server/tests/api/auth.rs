//! Sign-in, sessions, and refusal of callers who are not signed-in admins.

use reqwest::StatusCode;

use crate::helpers::{new_client, spawn_app, TestUser, ADMIN_EMAIL, ADMIN_PASSWORD};

// Refusal of every endpoint without its access: see permissions.rs.

#[tokio::test]
async fn the_users_page_redirects_to_sign_in_when_signed_out() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/users?q=ann", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().expect("location");
    assert_eq!(location, "/login?next=%2Fusers%3Fq%3Dann");
}

#[tokio::test]
async fn sign_in_sets_a_strict_httponly_cookie_and_stores_only_a_hash() {
    let app = spawn_app().await;
    app::backend::auth::create_admin(&app.db, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("admin");
    let response = app.sign_in(&app.client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.starts_with("roster_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    let token = cookie
        .trim_start_matches("roster_session=")
        .split(';')
        .next()
        .expect("token")
        .to_string();
    let stored = app
        .scalar_i64(
            "SELECT count(*) FROM sessions WHERE token_hash = $1",
            vec![app::backend::auth::token_hash(&token).into()],
        )
        .await;
    assert_eq!(stored, 1, "the session is stored by hash");
    let raw = app
        .scalar_i64(
            "SELECT count(*) FROM sessions WHERE token_hash = $1",
            vec![token.into()],
        )
        .await;
    assert_eq!(raw, 0, "the raw token is never stored");
    let admin: app::domain::AdminInfo = app
        .client
        .post(format!("{}/api/current_admin", app.address))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("admin");
    assert_eq!(admin.email, ADMIN_EMAIL);
    assert_eq!(admin.role, "owner");
    assert!(admin.permissions.iter().any(|p| p == "admin.access"));
    // The admin is a user too: signing in is their last access (their row in the
    // table no longer says "Never" while they use Roster), and not an edit.
    let me = app.user_detail(admin.id).await;
    let last = me.last_access_at.expect("a last access once signed in");
    assert!(
        (chrono::Utc::now() - last).num_seconds().abs() < 60,
        "{last}"
    );
    assert_eq!(me.version, 1);
    // Still in use an hour later: the session's once-a-minute refresh moves it on.
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    app.exec(
        "UPDATE sessions SET last_seen_at = $1 WHERE user_id = $2",
        vec![hour_ago.into(), admin.id.into()],
    )
    .await;
    app.exec(
        "UPDATE users SET last_access_at = $1 WHERE id = $2",
        vec![hour_ago.into(), admin.id.into()],
    )
    .await;
    let again = app
        .client
        .post(format!("{}/api/current_admin", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::OK);
    let later = app
        .user_detail(admin.id)
        .await
        .last_access_at
        .expect("last access");
    assert!(later > hour_ago + chrono::Duration::minutes(59), "{later}");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_field_error() {
    let app = spawn_app().await;
    app::backend::auth::create_admin(&app.db, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("admin");
    for (email, password) in [
        (ADMIN_EMAIL, "wrong-password-123"),
        ("nobody@roster.test", ADMIN_PASSWORD),
    ] {
        let response = app.sign_in(&app.client, email, password).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email}"
        );
        assert!(
            response.headers().get("set-cookie").is_none(),
            "{email}: no cookie"
        );
        let error: app::domain::AppError = response.json().await.expect("error");
        assert_eq!(
            error.field_messages("password"),
            vec!["The email or password is not correct.".to_string()],
            "{email}"
        );
    }
}

#[tokio::test]
async fn a_member_without_admin_access_cannot_sign_in() {
    let app = spawn_app().await;
    let id = app.insert_user(TestUser::new("Mem", "Ber")).await;
    let hash = app::backend::auth::hash_password("member-password-1").expect("hash");
    app.exec(
        "UPDATE users SET password_hash = $1 WHERE id = $2",
        vec![hash.into(), id.into()],
    )
    .await;
    let response = app
        .sign_in(&app.client, "mem.ber@example.com", "member-password-1")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: app::domain::AppError = response.json().await.expect("error");
    assert_eq!(
        error.field_messages("email"),
        vec!["This account has no admin access.".to_string()]
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    assert_eq!(app.list_qs("").await.total, 1, "the owner is listed");
    let out = app
        .client
        .post(format!("{}/api/sign_out", app.address))
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM sessions", vec![])
            .await,
        0
    );
    let after = app
        .call(
            &app.client,
            "list_users",
            serde_json::json!({ "query": app::domain::UserQuery::default() }),
        )
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_banned_or_demoted_admin_loses_access_at_once() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let second = new_client();
    let id = app::backend::auth::create_admin(&app.db, "second@roster.test", "second-password-1")
        .await
        .expect("admin");
    assert_eq!(
        app.sign_in(&second, "second@roster.test", "second-password-1")
            .await
            .status(),
        StatusCode::OK
    );
    let query = serde_json::json!({ "query": app::domain::UserQuery::default() });
    assert_eq!(
        app.call(&second, "list_users", query.clone())
            .await
            .status(),
        StatusCode::OK
    );

    app.exec(
        "UPDATE users SET status = 'banned' WHERE id = $1",
        vec![id.into()],
    )
    .await;
    assert_eq!(
        app.call(&second, "list_users", query.clone())
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "banned"
    );

    app.exec(
        "UPDATE users SET status = 'active', role_id = (SELECT id FROM roles WHERE name = 'member') WHERE id = $1",
        vec![id.into()],
    )
    .await;
    assert_eq!(
        app.call(&second, "list_users", query).await.status(),
        StatusCode::UNAUTHORIZED,
        "demoted"
    );
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    app.exec("UPDATE sessions SET expires_at = $1", vec![past.into()])
        .await;
    let response = app
        .call(&app.client, "list_tags", serde_json::json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cross_origin_writes_are_refused() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let response = app
        .client
        .post(format!("{}/api/list_tags", app.address))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let same = app
        .client
        .post(format!("{}/api/list_tags", app.address))
        .header("origin", &app.address)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(same.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_for_a_while() {
    let app = spawn_app().await;
    app::backend::auth::create_admin(&app.db, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("admin");
    app::backend::auth::create_admin(&app.db, "other@roster.test", "other-password-1")
        .await
        .expect("second admin");
    for attempt in 1..=5 {
        let wrong = app
            .sign_in(&new_client(), ADMIN_EMAIL, "not-the-password")
            .await;
        assert_eq!(
            wrong.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
    }

    let locked = app
        .sign_in(&new_client(), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;

    assert_eq!(
        locked.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "even the right password waits"
    );
    let error: app::domain::AppError = locked.json().await.expect("an AppError");
    let message = error.field_messages("password").join(" ");
    assert!(
        message.starts_with("Too many failed sign-ins. Try again in 1")
            && message.ends_with("minutes."),
        "{message}"
    );
    let other = app
        .sign_in(&new_client(), "other@roster.test", "other-password-1")
        .await;
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "other accounts are not locked"
    );
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_their_script_nonce() {
    let app = crate::helpers::spawn_app().await;
    let response = app
        .client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("login page");
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("a CSP header")
        .to_string();
    let body = response.text().await.expect("body");
    let nonce = body
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an inline script with a nonce");
    assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp}");
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(
        !csp.split([' ', ';']).any(|t| t == "'unsafe-eval'"),
        "scripts may not eval: {csp}"
    );
}
