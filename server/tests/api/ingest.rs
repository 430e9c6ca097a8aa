//! The admins' own apps: API keys, `POST /api/v1/events` (auth by key, per-event
//! errors, unknown users, rate limit, last access), `POST /api/v1/signup`,
//! reminders, and the retention purge.

use app::backend::Config;
use app::domain::activity::{ActivityKind, ApiKeyInfo, ReminderInfo, TimelinePage};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app, spawn_app_with, TestApp, TestUser};

async fn new_key(app: &TestApp, name: &str) -> String {
    let response = app
        .call(&app.client, "create_api_key", json!({ "name": name }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a key")
}

async fn send(app: &TestApp, key: &str, events: Value) -> reqwest::Response {
    new_client()
        .post(format!("{}/api/v1/events", app.address))
        .header("Origin", "https://shop.example")
        .bearer_auth(key)
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("events request")
}

async fn timeline(app: &TestApp, id: i64) -> TimelinePage {
    app.call(
        &app.client,
        "user_timeline",
        json!({ "user_id": id, "kinds": [], "offset": 0, "limit": 50 }),
    )
    .await
    .json()
    .await
    .expect("timeline")
}

#[tokio::test]
async fn events_from_another_origin_are_stored_per_event_and_move_last_access() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    let key = new_key(&app, "Shop").await;
    let at = (Utc::now() - Duration::minutes(3)).to_rfc3339();

    let response = send(
        &app,
        &key,
        json!([
            { "user": ada, "kind": "page_view", "name": "/pricing", "at": at },
            { "user": "ALAN.TURING@example.com", "kind": "feature", "name": "export", "detail": { "rows": 12 } },
            { "user": "ada_lovelace", "kind": "custom", "name": "trial started" },
            { "user": "nobody@example.com", "kind": "page_view", "name": "/" },
            { "user": ada, "kind": "sign_in", "name": "/" },
            { "user": ada, "kind": "page_view" }
        ]),
    )
    .await;

    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.expect("report");
    assert_eq!(report["accepted"], 3);
    let rejected: Vec<(u64, &str)> = report["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().expect("index"),
                r["code"].as_str().expect("code"),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            (3, "unknown_user"),
            (4, "invalid_kind"),
            (5, "invalid_name")
        ]
    );

    let ada_timeline = timeline(&app, ada).await;
    let names: Vec<&str> = ada_timeline
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, vec!["trial started", "/pricing"]);
    assert_eq!(ada_timeline.entries[0].kind, ActivityKind::Custom);
    let alan_timeline = timeline(&app, alan).await;
    let detail: Value =
        serde_json::from_str(&alan_timeline.entries[0].detail).expect("JSON detail");
    assert_eq!(detail, json!({ "rows": 12 }));
    let ada_detail = app.user_detail(ada).await;
    assert!(ada_detail
        .last_access_at
        .is_some_and(|t| Utc::now() - t < Duration::minutes(1)));
    let keys: Vec<ApiKeyInfo> = app
        .call(&app.client, "list_api_keys", json!({}))
        .await
        .json()
        .await
        .expect("keys");
    assert!(keys[0].last_used_at.is_some());
    assert!(key.starts_with(&keys[0].prefix));
}

#[tokio::test]
async fn a_missing_wrong_or_revoked_key_is_refused() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let key = new_key(&app, "Shop").await;
    let event = json!([{ "user": id, "kind": "page_view", "name": "/" }]);

    for bad in ["", "rk_not-a-key"] {
        let response = send(&app, bad, event.clone()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        let body: Value = response.json().await.expect("error");
        assert_eq!(body["error"], "invalid_api_key");
    }
    let keys: Vec<ApiKeyInfo> = app
        .call(&app.client, "list_api_keys", json!({}))
        .await
        .json()
        .await
        .expect("keys");
    let revoked = app
        .call(&app.client, "revoke_api_key", json!({ "id": keys[0].id }))
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        send(&app, &key, event).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let malformed = new_client()
        .post(format!("{}/api/v1/events", app.address))
        .bearer_auth(new_key(&app, "Other").await)
        .body("not json")
        .send()
        .await
        .expect("request");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn each_key_is_rate_limited_with_a_retry_after() {
    let app = spawn_app_with(Config {
        event_requests_per_minute: 2,
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let (first, second) = (new_key(&app, "A").await, new_key(&app, "B").await);
    let event = json!([{ "user": id, "kind": "page_view", "name": "/" }]);

    assert_eq!(
        send(&app, &first, event.clone()).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&app, &first, event.clone()).await.status(),
        StatusCode::OK
    );
    let limited = send(&app, &first, event.clone()).await;

    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        limited.json::<Value>().await.expect("error")["error"],
        "rate_limited"
    );
    assert_eq!(
        send(&app, &second, event).await.status(),
        StatusCode::OK,
        "another key has its own budget"
    );
    assert_eq!(timeline(&app, id).await.entries.len(), 3);
}

#[tokio::test]
async fn api_keys_are_for_admins_who_manage_them() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app::backend::auth::create_admin(&app.db, "viewer@roster.test", "viewer-password-1")
        .await
        .expect("admin");
    app.exec(
        "UPDATE users SET role_id = (SELECT id FROM roles WHERE name = 'viewer') WHERE email = 'viewer@roster.test'",
        vec![],
    )
    .await;
    let viewer = new_client();
    app.sign_in(&viewer, "viewer@roster.test", "viewer-password-1")
        .await;
    for (endpoint, body) in [
        ("list_api_keys", json!({})),
        ("create_api_key", json!({ "name": "x" })),
        ("revoke_api_key", json!({ "id": 1 })),
    ] {
        assert_eq!(
            app.call(&viewer, endpoint, body).await.status(),
            StatusCode::FORBIDDEN,
            "{endpoint}"
        );
    }
    let unnamed = app
        .call(&app.client, "create_api_key", json!({ "name": " " }))
        .await;
    assert_eq!(unnamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM api_keys", vec![])
            .await,
        0,
        "nothing was created"
    );
}

#[tokio::test]
async fn a_public_signup_creates_a_self_signed_up_user_with_the_opt_in() {
    let app = spawn_app_with(Config {
        signups_per_minute: 2,
        // The test plays the proxy: its X-Forwarded-For names the client.
        trusted_proxies: app::backend::throttle::TrustedProxies::parse("127.0.0.1").unwrap(),
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let signup = |body: Value, ip: &'static str| {
        let url = format!("{}/api/v1/signup", app.address);
        async move {
            new_client()
                .post(url)
                .header("Origin", "https://www.example")
                .header("X-Forwarded-For", ip)
                .json(&body)
                .send()
                .await
                .expect("signup request")
        }
    };

    let created = signup(
        json!({ "email": "New@Example.com", "first_name": "Nia", "email_opt_in": true }),
        "10.0.0.1",
    )
    .await;
    assert_eq!(created.status(), StatusCode::ACCEPTED);
    let created: Value = created.json().await.expect("an answer");
    assert!(
        created.get("id").is_none(),
        "no id is given away: {created}"
    );
    let id = app.user_id("new@example.com").await;
    let user = app.user_detail(id).await;
    assert_eq!(user.email, "new@example.com");
    assert_eq!(user.signup_source, "self_signup");
    assert!(user.email_opt_in && user.email_opt_in_changed_at.is_some());
    assert_eq!(
        user.email_opt_in_changed_by.as_deref(),
        Some("the user, at signup")
    );
    assert_eq!(timeline(&app, id).await.entries[0].name, "signup");

    let invalid = signup(json!({ "email": "nope", "phone": "070" }), "10.0.0.2").await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = invalid.json().await.expect("error");
    assert!(
        body["fields"]["email"].is_array() && body["fields"]["phone"].is_array(),
        "{body}"
    );
    // Signing up again with a registered email is answered exactly like a new signup.
    let taken = signup(json!({ "email": "new@example.com" }), "10.0.0.1").await;
    assert_eq!(taken.status(), StatusCode::ACCEPTED);
    assert_eq!(taken.json::<Value>().await.expect("an answer"), created);
    let limited = signup(json!({ "email": "third@example.com" }), "10.0.0.1").await;
    assert_eq!(
        limited.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a third signup from one address in a minute"
    );
}

#[tokio::test]
async fn reminders_are_added_edited_done_and_listed_when_due() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ada = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let alan = app.insert_user(TestUser::new("Alan", "Turing")).await;
    let past = (Utc::now() - Duration::hours(2)).timestamp();
    let later = (Utc::now() + Duration::days(3)).timestamp();
    for (user, due, body) in [
        (ada, past, "Call back"),
        (alan, later, "Renewal"),
        (ada, later, "Check usage"),
    ] {
        let r = app
            .call(
                &app.client,
                "add_reminder",
                json!({ "user_id": user, "due_at": due, "body": body }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let empty = app
        .call(
            &app.client,
            "add_reminder",
            json!({ "user_id": ada, "due_at": past, "body": "" }),
        )
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let due: Vec<ReminderInfo> = app
        .call(&app.client, "due_reminders", json!({}))
        .await
        .json()
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].body.as_str(), due[0].user_name.as_str()),
        ("Call back", "Ada Lovelace")
    );
    let count: i64 = app
        .call(&app.client, "due_reminder_count", json!({}))
        .await
        .json()
        .await
        .expect("count");
    assert_eq!(count, 1);

    let done = app
        .call(
            &app.client,
            "update_reminder",
            json!({ "id": due[0].id, "due_at": past, "body": "Called back", "done": true }),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let count: i64 = app
        .call(&app.client, "due_reminder_count", json!({}))
        .await
        .json()
        .await
        .expect("count");
    assert_eq!(count, 0);
    let mine: Vec<ReminderInfo> = app
        .call(&app.client, "user_reminders", json!({ "user_id": ada }))
        .await
        .json()
        .await
        .expect("list");
    let shape: Vec<(&str, bool)> = mine.iter().map(|r| (r.body.as_str(), r.done)).collect();
    assert_eq!(
        shape,
        vec![("Check usage", false), ("Called back", true)],
        "open first, then done"
    );
    let deleted = app
        .call(&app.client, "delete_reminder", json!({ "id": mine[0].id }))
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM reminders", vec![])
            .await,
        2
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM audit_log WHERE action LIKE 'reminder.%'",
            vec![]
        )
        .await,
        5
    );
}

#[tokio::test]
async fn activity_older_than_the_retention_is_purged() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    for days in [400, 366, 10] {
        app.exec(
            "INSERT INTO activities (user_id, at, kind, name) VALUES ($1, $2, 'page_view', $3)",
            vec![
                id.into(),
                (Utc::now() - Duration::days(days)).into(),
                format!("/{days}").into(),
            ],
        )
        .await;
    }
    let purged = app::backend::events::purge_old_activity(&app.db, 365)
        .await
        .expect("purge");
    assert_eq!(purged, 2);
    let names: Vec<String> = timeline(&app, id)
        .await
        .entries
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, vec!["/10"]);
}

#[tokio::test]
async fn public_signup_respects_the_seat_quota_and_ignores_made_up_forwarded_for() {
    let app = spawn_app_with(Config {
        signups_per_minute: 3,
        max_users: Some(2),
        ..Config::default()
    })
    .await;
    app.sign_in_owner().await;
    let signup = |email: String, n: u32| {
        let url = format!("{}/api/v1/signup", app.address);
        async move {
            new_client()
                .post(url)
                .header("X-Forwarded-For", format!("10.9.0.{n}"))
                .json(&json!({ "email": email }))
                .send()
                .await
                .expect("signup request")
        }
    };
    // The owner is one seat; one more signup fits.
    assert_eq!(
        signup("one@example.com".into(), 1).await.status(),
        StatusCode::ACCEPTED
    );
    let full = signup("two@example.com".into(), 2).await;
    assert_eq!(full.status(), StatusCode::FORBIDDEN);
    let body: Value = full.json().await.expect("error");
    assert_eq!(body["error"], "signups_closed", "{body}");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM users", vec![]).await,
        2,
        "nothing past the quota"
    );
    // No proxy is trusted, so a new X-Forwarded-For each time does not make a new
    // caller: the fourth signup from this peer in a minute is refused.
    signup("three@example.com".into(), 3).await;
    assert_eq!(
        signup("four@example.com".into(), 4).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
