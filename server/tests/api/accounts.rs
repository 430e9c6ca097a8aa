//! The managed users' sign-in API and what admins do to it: ban, password reset
//! (temporary password or emailed link), invitations, log out everywhere, emails in
//! the outbox in the user's language.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app, TestApp, TestUser};

const PASSWORD: &str = "correct horse battery";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)";

impl TestApp {
    /// A user with a password, returning their id.
    async fn user_with_password(&self, first: &str) -> (i64, String) {
        let user = TestUser::new(first, "Account");
        let email = user.email.clone();
        let id = self.insert_user(user).await;
        let hash = app::backend::auth::hash_password(PASSWORD).expect("hash");
        self.exec(
            "UPDATE users SET password_hash = $1 WHERE id = $2",
            vec![hash.into(), id.into()],
        )
        .await;
        (id, email)
    }

    async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let url = format!("{}/api/v1/auth/{path}", self.address);
        let client = new_client();
        let mut request = if method == "GET" {
            client.get(url)
        } else {
            client.post(url).json(&body)
        };
        request = request.header("user-agent", IPHONE);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn user_sign_in(&self, login: &str, password: &str) -> (StatusCode, Value) {
        self.api(
            "POST",
            "sign-in",
            None,
            json!({ "login": login, "password": password }),
        )
        .await
    }

    async fn token_for(&self, login: &str, password: &str) -> String {
        let (status, body) = self.user_sign_in(login, password).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    async fn me_status(&self, token: &str) -> (StatusCode, Value) {
        self.api("GET", "me", Some(token), Value::Null).await
    }

    /// The newest outbox email as (to, kind, subject, body).
    async fn last_email(&self) -> (String, String, String, String) {
        let emails: Vec<Value> = self
            .call(&self.client, "list_outbox", json!({}))
            .await
            .json()
            .await
            .expect("outbox");
        let e = emails.first().expect("an email");
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        (s("to"), s("kind"), s("subject"), s("body"))
    }
}

/// The token in an emailed link.
fn link_token(body: &str) -> String {
    let at = body
        .find("/account/set-password?token=")
        .expect("a link in the email");
    body[at..]
        .trim_start_matches("/account/set-password?token=")
        .split_whitespace()
        .next()
        .expect("token")
        .to_string()
}

#[tokio::test]
async fn users_sign_in_by_email_username_or_phone_and_the_device_and_sign_in_are_recorded() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (id, email) = app.user_with_password("Ada").await;
    app.exec(
        "UPDATE users SET phone = '+46701234567' WHERE id = $1",
        vec![id.into()],
    )
    .await;
    for login in [email.as_str(), "ADA_ACCOUNT", "+46 70 123 45 67"] {
        let (status, body) = app.user_sign_in(login, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{login}: {body}");
        assert_eq!(body["user"]["id"], json!(id));
        assert_eq!(body["user"]["password_change_required"], json!(false));
    }
    let (status, body) = app.user_sign_in(&email, "wrong password!").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    let (status, body) = app.user_sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    let (status, body) = app.user_sign_in("", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["fields"]["login"].is_array() && body["fields"]["password"].is_array(),
        "{body}"
    );

    let token = app.token_for(&email, PASSWORD).await;
    let (status, me) = app.me_status(&token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], json!(email));
    let devices = app
        .scalar_i64(
            "SELECT count(*) FROM devices WHERE user_id = $1 AND platform = 'iOS'",
            vec![id.into()],
        )
        .await;
    assert_eq!(devices, 1, "one device however often it signs in");
    let sign_ins = app
        .scalar_i64(
            "SELECT count(*) FROM activities WHERE user_id = $1 AND kind = 'sign_in'",
            vec![id.into()],
        )
        .await;
    assert_eq!(sign_ins, 4);

    let (status, _) = app.api("POST", "sign-out", Some(&token), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.me_status(&token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    let (status, _) = app.me_status("made-up").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_ban_refuses_sign_in_and_every_token_and_activating_lets_the_user_back() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (id, email) = app.user_with_password("Ben").await;
    let token = app.token_for(&email, PASSWORD).await;
    let ban = app
        .call(
            &app.client,
            "set_user_status",
            json!({ "id": id, "status": "Banned" }),
        )
        .await;
    assert_eq!(ban.status(), StatusCode::OK);
    let (status, _) = app.me_status(&token).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the banned user's token is refused"
    );
    let (status, body) = app.user_sign_in(&email, PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("account_banned"))
    );
    let activate = app
        .call(
            &app.client,
            "set_user_status",
            json!({ "id": id, "status": "Active" }),
        )
        .await;
    assert_eq!(activate.status(), StatusCode::OK);
    let token = app.token_for(&email, PASSWORD).await;
    assert_eq!(app.me_status(&token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_temporary_password_ends_sessions_stops_the_old_one_and_must_be_changed() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (id, email) = app.user_with_password("Cleo").await;
    app.exec(
        "UPDATE users SET language = 'de' WHERE id = $1",
        vec![id.into()],
    )
    .await;
    let old_token = app.token_for(&email, PASSWORD).await;
    let response = app
        .call(
            &app.client,
            "reset_password",
            json!({ "id": id, "mode": "Temporary" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let temporary: Option<String> = response.json().await.expect("password");
    let temporary = temporary.expect("the temporary password, shown once");
    assert_eq!(app.me_status(&old_token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.user_sign_in(&email, PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );

    let (to, kind, subject, body) = app.last_email().await;
    assert_eq!(
        (to.as_str(), kind.as_str()),
        (email.as_str(), "temporary_password")
    );
    assert_eq!(
        subject, "Ihr vorläufiges Passwort",
        "in the user's language"
    );
    assert!(body.contains(&temporary));

    let (status, signed_in) = app.user_sign_in(&email, &temporary).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(signed_in["user"]["password_change_required"], json!(true));
    let token = signed_in["token"].as_str().expect("token").to_string();
    let (status, body) = app.me_status(&token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let (status, body) = app
        .api(
            "POST",
            "change-password",
            Some(&token),
            change("wrong", "a brand new password"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["fields"]["current_password"].is_array(), "{body}");
    let (status, body) = app
        .api(
            "POST",
            "change-password",
            Some(&token),
            change(&temporary, "short"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["fields"]["new_password"].is_array(), "{body}");
    let (status, _) = app
        .api(
            "POST",
            "change-password",
            Some(&token),
            change(&temporary, "a brand new password"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.me_status(&token).await.0, StatusCode::OK);
    assert_eq!(
        app.user_sign_in(&email, &temporary).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.user_sign_in(&email, "a brand new password").await.0,
        StatusCode::OK
    );
    let audited = app.audit("user.password_reset").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(
        audited[0].after.as_ref().map(|a| a["mode"].clone()),
        Some(json!("temporary_password"))
    );
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (id, email) = app.user_with_password("Dora").await;
    let response = app
        .call(
            &app.client,
            "reset_password",
            json!({ "id": id, "mode": "Link" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.user_sign_in(&email, PASSWORD).await.0,
        StatusCode::UNAUTHORIZED,
        "the old password stops at once"
    );
    let (_, kind, subject, body) = app.last_email().await;
    assert_eq!(
        (kind.as_str(), subject.as_str()),
        ("password_reset", "Reset your password")
    );
    let token = link_token(&body);
    let (status, info) = app
        .api("POST", "link", None, json!({ "token": token }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (info["email"].as_str(), info["invitation"].as_bool()),
        (Some(email.as_str()), Some(false))
    );
    let set = json!({ "token": token, "new_password": "my own new password" });
    let (status, _) = app.api("POST", "set-password", None, set.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.user_sign_in(&email, "my own new password").await.0,
        StatusCode::OK
    );
    let (status, body) = app.api("POST", "set-password", None, set).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::GONE, Some("invalid_link")),
        "a link works once"
    );
}

#[tokio::test]
async fn an_invitation_activates_the_user_and_a_new_one_replaces_the_old_link() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let mut invited = TestUser::new("Eve", "Invited");
    invited.status = "invited";
    let email = invited.email.clone();
    let id = app.insert_user(invited).await;
    // Before a correct password nothing tells that the account exists or is invited.
    let (status, body) = app.user_sign_in(&email, "anything at all").await;
    let (unknown_status, unknown) = app
        .user_sign_in("nobody-at-all@example.com", "anything at all")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    assert_eq!((status, &body), (unknown_status, &unknown));

    for _ in 0..2 {
        let sent = app
            .call(&app.client, "send_invitation", json!({ "id": id }))
            .await;
        assert_eq!(sent.status(), StatusCode::OK);
    }
    let emails: Vec<Value> = app
        .call(&app.client, "list_outbox", json!({}))
        .await
        .json()
        .await
        .expect("outbox");
    let links: Vec<String> = emails
        .iter()
        .filter(|e| e["kind"] == "invitation")
        .map(|e| link_token(e["body"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(links.len(), 2);
    let (newest, oldest) = (&links[0], &links[1]);
    let (status, _) = app
        .api(
            "POST",
            "set-password",
            None,
            json!({ "token": oldest, "new_password": "welcome aboard 1" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::GONE,
        "a resent invitation invalidates the old link"
    );
    let (status, info) = app
        .api(
            "POST",
            "set-password",
            None,
            json!({ "token": newest, "new_password": "welcome aboard 1" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["invitation"], json!(true));
    assert_eq!(
        app.user_detail(id).await.status,
        app::domain::Status::Active
    );
    assert_eq!(
        app.user_sign_in(&email, "welcome aboard 1").await.0,
        StatusCode::OK
    );
    let again = app
        .call(&app.client, "send_invitation", json!({ "id": id }))
        .await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "an active user with a password is reset, not invited"
    );
}

#[tokio::test]
async fn log_out_everywhere_refuses_every_token_of_the_user() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (id, email) = app.user_with_password("Finn").await;
    let (other_id, other_email) = app.user_with_password("Gus").await;
    let tokens = [
        app.token_for(&email, PASSWORD).await,
        app.token_for(&email, PASSWORD).await,
    ];
    let bystander = app.token_for(&other_email, PASSWORD).await;
    let response = app
        .call(&app.client, "sign_out_everywhere", json!({ "id": id }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let ended: u64 = response.json().await.expect("count");
    assert_eq!(ended, 2);
    for token in &tokens {
        assert_eq!(app.me_status(token).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.me_status(&bystander).await.0,
        StatusCode::OK,
        "user {other_id} keeps theirs"
    );
    assert_eq!(app.audit("user.sign_out_everywhere").await.len(), 1);
}

#[tokio::test]
async fn viewers_cannot_reset_invite_or_end_sessions_and_support_cannot_reset_an_admin() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (id, _) = app.user_with_password("Hal").await;
    let viewer = app.sign_in_as("viewer@example.com", "viewer").await;
    for (endpoint, body) in [
        ("reset_password", json!({ "id": id, "mode": "Link" })),
        ("send_invitation", json!({ "id": id })),
        ("sign_out_everywhere", json!({ "id": id })),
        ("list_outbox", json!({})),
    ] {
        let response = app.call(&viewer, endpoint, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{endpoint}");
    }
    let support = app.sign_in_as("support@example.com", "support").await;
    let owner = app.user_id("viewer@example.com").await;
    app.exec(
        "UPDATE users SET role_id = (SELECT id FROM roles WHERE name = 'owner') WHERE id = $1",
        vec![owner.into()],
    )
    .await;
    let refused = app
        .call(
            &support,
            "reset_password",
            json!({ "id": owner, "mode": "Temporary" }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let allowed = app
        .call(
            &support,
            "reset_password",
            json!({ "id": id, "mode": "Link" }),
        )
        .await;
    assert_eq!(allowed.status(), StatusCode::OK);
}

/// A mail server on loopback for the tests: it speaks enough SMTP for lettre, refuses
/// recipients whose address holds "reject" for good, and hands every accepted
/// message (envelope recipients, then the data) to the test.
async fn smtp_sink() -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<(Vec<String>, String)>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the SMTP sink");
    let port = listener.local_addr().expect("address").port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                let mut recipients = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let answer: &[u8] =
                        if command.starts_with("EHLO") || command.starts_with("HELO") {
                            b"250 sink.test\r\n"
                        } else if command.starts_with("RCPT") {
                            if line.contains("reject") {
                                b"550 5.1.1 No such mailbox\r\n"
                            } else {
                                recipients.push(line.clone());
                                b"250 2.1.5 OK\r\n"
                            }
                        } else if command == "DATA" {
                            let _ = write.write_all(b"354 Go ahead\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            let _ = tx.send((std::mem::take(&mut recipients), data));
                            b"250 2.0.0 Queued\r\n"
                        } else if command == "QUIT" {
                            let _ = write.write_all(b"221 Bye\r\n").await;
                            break;
                        } else {
                            b"250 OK\r\n"
                        };
                    let _ = write.write_all(answer).await;
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test]
async fn emails_go_out_over_smtp_once_and_a_refused_address_is_not_tried_again() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let (port, mut received) = smtp_sink().await;
    let mailer = server::mailer::Mailer::new(
        &format!("smtp://127.0.0.1:{port}"),
        "Roster <roster@roster.test>",
    )
    .expect("mailer");
    let (id, email) = app.user_with_password("Mailo").await;
    let response = app
        .call(
            &app.client,
            "reset_password",
            json!({ "id": id, "mode": "Link" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, _, _, outbox_body) = app.last_email().await;
    let token = link_token(&outbox_body);

    let round = server::mailer::deliver_pending(&app.db, &mailer)
        .await
        .expect("deliver");
    assert_eq!((round.sent, round.refused, round.deferred), (1, 0, None));
    let (recipients, data) = received.recv().await.expect("a delivered message");
    assert_eq!(recipients.len(), 1);
    assert!(recipients[0].contains(&email), "{recipients:?}");
    assert!(data.contains("Subject: Reset your password"), "{data}");
    assert!(data.contains("From: Roster <roster@roster.test>"), "{data}");
    // Long lines travel quoted-printable: soft breaks and "=3D" undone.
    let decoded = data.replace("=\n", "").replace("=3D", "=");
    assert!(
        decoded.contains(&format!("/account/set-password?token={token}")),
        "the delivered link is the outbox's: {data}"
    );
    let emails: Vec<Value> = app
        .call(&app.client, "list_outbox", json!({}))
        .await
        .json()
        .await
        .expect("outbox");
    assert!(
        emails[0]["sent_at"].is_string(),
        "marked sent: {}",
        emails[0]
    );
    let again = server::mailer::deliver_pending(&app.db, &mailer)
        .await
        .expect("deliver");
    assert_eq!(again, server::mailer::Round::default(), "sent once only");

    // The server refuses this recipient for good: marked, and not tried again.
    let rejected = app.insert_user(TestUser::new("Reject", "Mailbox")).await;
    app.exec(
        "UPDATE users SET email = 'reject.me@roster.test' WHERE id = $1",
        vec![rejected.into()],
    )
    .await;
    let response = app
        .call(&app.client, "send_invitation", json!({ "id": rejected }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let round = server::mailer::deliver_pending(&app.db, &mailer)
        .await
        .expect("deliver");
    assert_eq!((round.sent, round.refused), (0, 1));
    let emails: Vec<Value> = app
        .call(&app.client, "list_outbox", json!({}))
        .await
        .json()
        .await
        .expect("outbox");
    assert!(emails[0]["sent_at"].is_null());
    assert!(
        emails[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("No such mailbox")),
        "{}",
        emails[0]
    );
    let again = server::mailer::deliver_pending(&app.db, &mailer)
        .await
        .expect("deliver");
    assert_eq!(again, server::mailer::Round::default());
}

#[tokio::test]
async fn emails_wait_in_the_outbox_while_the_mail_server_is_down() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("address").port()
    };
    let mailer =
        server::mailer::Mailer::new(&format!("smtp://127.0.0.1:{port}"), "roster@roster.test")
            .expect("mailer");
    let (id, _) = app.user_with_password("Waiting").await;
    let response = app
        .call(
            &app.client,
            "reset_password",
            json!({ "id": id, "mode": "Temporary" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let round = server::mailer::deliver_pending(&app.db, &mailer)
        .await
        .expect("deliver");
    assert_eq!((round.sent, round.refused), (0, 0));
    assert!(round.deferred.is_some(), "the failure is reported");
    let pending = app
        .scalar_i64(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND error IS NULL",
            vec![],
        )
        .await;
    assert_eq!(pending, 1, "kept for the next round");

    // Back up: the same email goes out.
    let (port, mut received) = smtp_sink().await;
    let mailer =
        server::mailer::Mailer::new(&format!("smtp://127.0.0.1:{port}"), "roster@roster.test")
            .expect("mailer");
    let round = server::mailer::deliver_pending(&app.db, &mailer)
        .await
        .expect("deliver");
    assert_eq!(round.sent, 1);
    let (_, data) = received.recv().await.expect("delivered");
    assert!(data.contains("Subject: Your temporary password"), "{data}");
}

#[test]
fn a_bad_smtp_url_or_sender_is_refused_at_start() {
    assert!(server::mailer::Mailer::new("ftp://nope", "roster@roster.test").is_err());
    let bad_from = server::mailer::Mailer::new("smtp://127.0.0.1:25", "not an address");
    assert!(bad_from
        .err()
        .is_some_and(|e| e.to_string().contains("sender address")));
}
