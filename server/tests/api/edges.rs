//! The edges an attacker probes before the authority rule: who the client is behind
//! proxies, sign-in throttling, the shape of server-function input, cross-site writes,
//! the `next` redirect, and a temporary admin password.

use app::backend::throttle::TrustedProxies;
use app::backend::Config;
use app::domain::{AppError, UserPage};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    new_client, spawn_app, spawn_app_with, TestUser, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// Failed admin sign-ins from one client, each with its own made-up X-Forwarded-For:
/// with no trusted proxy the header is ignored, so the address is locked at 20.
#[tokio::test]
async fn made_up_forwarded_for_headers_do_not_escape_the_sign_in_throttle() {
    let app = spawn_app().await;
    app::backend::auth::create_admin(&app.db, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("admin");
    let mut refused_at = None;
    for n in 0..40u32 {
        let response = new_client()
            .post(format!("{}/api/sign_in", app.address))
            .header("x-forwarded-for", format!("10.{}.{}.1", n / 250, n % 250))
            // A new account each time, so only the address can be what locks.
            .form(&[
                ("email", format!("nobody{n}@example.com")),
                ("password", "wrong-password".into()),
            ])
            .send()
            .await
            .expect("sign_in");
        let error: AppError = response.json().await.expect("an AppError");
        if error.summary().starts_with("Too many failed sign-ins") {
            refused_at = Some(n);
            break;
        }
    }
    assert_eq!(refused_at, Some(app::backend::throttle::ADDRESS_FAILURES));
}

/// Behind a trusted proxy the right-most untrusted entry is the client: what the client
/// prepends changes nothing, and the owner signing in from elsewhere is slowed, never
/// locked out.
#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_throttled() {
    let app = spawn_app_with(Config {
        trusted_proxies: TrustedProxies::parse("127.0.0.1/32").unwrap(),
        ..Config::default()
    })
    .await;
    app::backend::auth::create_admin(&app.db, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("admin");
    let attempt = |forwarded: String, password: &'static str| {
        let url = format!("{}/api/sign_in", app.address);
        async move {
            new_client()
                .post(url)
                .header("x-forwarded-for", forwarded)
                .form(&[("email", ADMIN_EMAIL), ("password", password)])
                .send()
                .await
                .expect("sign_in")
        }
    };
    for n in 0..5 {
        let r = attempt(format!("6.6.6.{n}, 198.51.100.1"), "wrong-password").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked: AppError = attempt("7.7.7.7, 198.51.100.1".into(), ADMIN_PASSWORD)
        .await
        .json()
        .await
        .expect("an AppError");
    assert!(
        locked.summary().starts_with("Too many failed sign-ins"),
        "the attacker's address stays locked whatever it prepends: {locked:?}"
    );
    let owner = attempt("198.51.100.2".into(), ADMIN_PASSWORD).await;
    assert_eq!(
        owner.status(),
        StatusCode::OK,
        "the owner elsewhere gets in"
    );
}

#[tokio::test]
async fn list_users_json_input_goes_through_the_url_parser() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    for n in 0..30 {
        app.insert_user(TestUser::new("Page", &format!("Size{n}")))
            .await;
    }
    let response = app
        .call(
            &app.client,
            "list_users",
            json!({ "query": { "per_page": 100000, "q": "x".repeat(50_000) } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: UserPage = response.json().await.expect("a UserPage");
    assert_eq!(page.per_page, 25, "an unknown page size is the default one");
    let everyone = app
        .call(
            &app.client,
            "list_users",
            json!({ "query": { "per_page": 100000 } }),
        )
        .await
        .json::<UserPage>()
        .await
        .expect("a UserPage");
    assert_eq!((everyone.rows.len(), everyone.total), (25, 31));
    let shapeless = app
        .call(&app.client, "list_users", json!({ "query": [100000] }))
        .await;
    assert!(
        shapeless.status().is_client_error() || shapeless.status().is_server_error(),
        "{}",
        shapeless.status()
    );
    assert_ne!(shapeless.status(), StatusCode::OK);
}

#[tokio::test]
async fn cookie_writes_without_a_same_origin_sign_are_refused() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    // A client that sends only what it is told to (no Sec-Fetch-Site by default).
    let bare = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let signed_in = bare
        .post(format!("{}/api/sign_in", app.address))
        .header("origin", &app.address)
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::OK);
    let list_tags = |origin: Option<&'static str>, site: Option<&'static str>| {
        let mut r = bare
            .post(format!("{}/api/list_tags", app.address))
            .json(&json!({}));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(s) = site {
            r = r.header("sec-fetch-site", s);
        }
        async move { r.send().await.expect("list_tags").status() }
    };
    assert_eq!(
        list_tags(Some("null"), None).await,
        StatusCode::FORBIDDEN,
        "Origin: null"
    );
    assert_eq!(
        list_tags(None, None).await,
        StatusCode::FORBIDDEN,
        "no Origin"
    );
    assert_eq!(
        list_tags(None, Some("cross-site")).await,
        StatusCode::FORBIDDEN,
        "cross-site fetch"
    );
    assert_eq!(
        list_tags(Some("null"), Some("same-origin")).await,
        StatusCode::FORBIDDEN,
        "a null Origin is never this site"
    );
    assert_eq!(list_tags(None, Some("same-origin")).await, StatusCode::OK);
    let own = bare
        .post(format!("{}/api/list_tags", app.address))
        .header("origin", &app.address)
        .json(&json!({}))
        .send()
        .await
        .expect("list_tags");
    assert_eq!(own.status(), StatusCode::OK);
    // A JSON server function refuses a form body (a cross-site form's only shape).
    let form = app
        .client
        .post(format!("{}/api/list_tags", app.address))
        .form(&[("x", "1")])
        .send()
        .await
        .expect("list_tags");
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn next_after_sign_in_stays_on_this_site() {
    let app = spawn_app().await;
    app::backend::auth::create_admin(&app.db, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("admin");
    for (next, want) in [
        ("/\t/evil.example", "/users"),
        ("//evil.example", "/users"),
        ("https://evil.example/", "/users"),
        ("/users?q=ann", "/users?q=ann"),
    ] {
        let response = new_client()
            .post(format!("{}/api/sign_in", app.address))
            .header("accept", "text/html")
            .form(&[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("sign_in");
        let location = response.headers()["location"].to_str().expect("location");
        assert_eq!(location, want, "next={next:?}");
    }
}

#[tokio::test]
async fn an_admin_with_a_temporary_password_must_change_it_before_anything_else() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let temp = "temporary-pass-123";
    let email = "temp@roster.test";
    app::backend::auth::create_admin(&app.db, email, temp)
        .await
        .expect("admin");
    app.exec(
        "UPDATE users SET must_change_password = TRUE, role_id = (SELECT id FROM roles WHERE name = 'admin') WHERE email = $1",
        vec![email.into()],
    )
    .await;
    let other_session = new_client();
    let client = new_client();
    let signed = client
        .post(format!("{}/api/sign_in", app.address))
        .header("accept", "text/html")
        .form(&[("email", email), ("password", temp), ("next", "/audit")])
        .send()
        .await
        .expect("sign_in");
    assert_eq!(
        signed.headers()["location"].to_str().unwrap(),
        "/password?next=%2Faudit"
    );
    assert_eq!(
        app.sign_in(&other_session, email, temp).await.status(),
        StatusCode::OK
    );
    for (endpoint, body) in [
        ("list_users", json!({ "query": "" })),
        ("current_admin", json!({})),
        ("list_outbox", json!({})),
    ] {
        let r = app.call(&client, endpoint, body).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{endpoint}");
        let error: AppError = r.json().await.expect("an AppError");
        assert_eq!(error, AppError::PasswordChangeRequired, "{endpoint}");
    }
    let export = client
        .get(format!("{}/users/export.csv", app.address))
        .send()
        .await
        .expect("export");
    assert_eq!(export.status(), StatusCode::FORBIDDEN, "HTTP routes too");

    let change = |current: &'static str, new: &'static str| {
        client
            .post(format!("{}/api/change_my_password", app.address))
            .form(&[("current", current), ("new", new)])
            .send()
    };
    let wrong: AppError = change("not-it-at-all", "my-own-password-1")
        .await
        .expect("change")
        .json()
        .await
        .expect("an AppError");
    assert!(!wrong.field_messages("current").is_empty(), "{wrong:?}");
    let same: AppError = change(temp, temp)
        .await
        .expect("change")
        .json()
        .await
        .expect("err");
    assert!(!same.field_messages("new").is_empty(), "{same:?}");
    assert_eq!(
        change(temp, "my-own-password-1")
            .await
            .expect("change")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call(&client, "list_users", json!({ "query": "" }))
            .await
            .status(),
        StatusCode::OK,
        "the admin's rights are back"
    );
    assert_eq!(
        app.call(&other_session, "list_tags", json!({}))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM users WHERE email = $1 AND must_change_password = FALSE",
            vec![email.into()]
        )
        .await,
        1
    );
    assert_eq!(app.audit("admin.password_change").await.len(), 1);
}

#[tokio::test]
async fn the_timeline_shows_audit_entries_only_to_admins_who_read_the_audit_log() {
    use app::domain::activity::{ActivityKind, TimelinePage};
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Audited")).await;
    let tagged = app
        .call(
            &app.client,
            "set_user_tags",
            json!({ "id": id, "names": ["vip"] }),
        )
        .await;
    assert_eq!(tagged.status(), StatusCode::OK);
    let viewer = app.sign_in_as("viewer@roster.test", "viewer").await;
    let kinds = |client: reqwest::Client| {
        let call = app.call_owned(
            client,
            "user_timeline",
            json!({ "user_id": id, "kinds": [], "offset": 0, "limit": 50 }),
        );
        async move {
            let page: TimelinePage = call.await.json().await.expect("a timeline");
            page.entries.iter().map(|e| e.kind).collect::<Vec<_>>()
        }
    };
    assert!(kinds(app.client.clone())
        .await
        .contains(&ActivityKind::AdminChange));
    assert!(!kinds(viewer.clone())
        .await
        .contains(&ActivityKind::AdminChange));
    let csv = |client: &reqwest::Client| {
        client
            .get(format!("{}/users/{id}/activity.csv", app.address))
            .send()
    };
    let owners = csv(&app.client)
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    let viewers = csv(&viewer).await.expect("csv").text().await.expect("text");
    assert!(owners.contains("user.tags"), "{owners}");
    assert!(!viewers.contains("user.tags"), "{viewers}");
}

/// The users' sign-in counts failures per account, however it is named: by email,
/// username, or the phone in either spelling.
#[tokio::test]
async fn every_spelling_of_one_account_counts_toward_one_lock() {
    let app = spawn_app().await;
    let mut user = TestUser::new("Spell", "Ing");
    user.username = Some("spelling".into());
    user.phone = Some("+46701234567".into());
    let email = user.email.clone();
    app.insert_user(user).await;
    let sign_in = |login: String| {
        let url = format!("{}/api/v1/auth/sign-in", app.address);
        async move {
            new_client()
                .post(url)
                .json(&json!({ "login": login, "password": "not-the-password" }))
                .send()
                .await
                .expect("sign-in")
                .status()
        }
    };
    let spellings = [
        email.to_uppercase(),
        "Spelling".into(),
        "+46 70 123 45 67".into(),
        "0046701234567".into(),
        email.clone(),
    ];
    for login in spellings {
        assert_eq!(
            sign_in(login.clone()).await,
            StatusCode::UNAUTHORIZED,
            "{login}"
        );
    }
    assert_eq!(
        sign_in("spelling".into()).await,
        StatusCode::TOO_MANY_REQUESTS,
        "five failures under five names lock the one account here"
    );
}

/// 10,000 failed sign-ins over HTTP, each with its own long made-up email and its own
/// X-Forwarded-For: all answered, none let through, and the limiter stays small.
#[tokio::test]
async fn ten_thousand_failed_sign_ins_keep_the_limiter_small() {
    let app = spawn_app_with(Config {
        throttle_capacity: 1000,
        ..Config::default()
    })
    .await;
    let client = new_client();
    let long = "a".repeat(2000);
    let mut refused = 0;
    for n in 0..10_000u32 {
        let response = client
            .post(format!("{}/api/v1/auth/sign-in", app.address))
            .header(
                "x-forwarded-for",
                format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255),
            )
            .json(
                &json!({ "login": format!("{long}{n}@example.com"), "password": "wrong-password" }),
            )
            .send()
            .await
            .expect("sign-in");
        assert!(
            matches!(
                response.status(),
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "attempt {n}: {}",
            response.status()
        );
        refused += 1;
    }
    assert_eq!(refused, 10_000);
    let (entries, bytes) = app.limits.sign_in.footprint();
    assert!(
        entries <= app.limits.sign_in.capacity(),
        "{entries} entries"
    );
    assert!(bytes <= 3 * 4 * 1000 * 32, "{bytes} bytes");
}
