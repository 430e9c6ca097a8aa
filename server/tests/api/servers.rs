//! Two servers on one database behave as one: a session made on one works on the
//! other, an import is applied once whichever server is asked, its progress shows on
//! both, each email is claimed by one server, and a job whose server stopped is failed
//! cleanly by another. Meant for PostgreSQL (what several servers share); on SQLite the
//! same assertions hold with one writer at a time.

use std::collections::HashSet;

use app::backend::{now, outbox, transfer::jobs};
use app::domain::transfer::{ImportJob, JobState};
use reqwest::StatusCode;
use sea_orm::Value;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_beside, TestApp, TestUser};

async fn job(app: &TestApp, client: &reqwest::Client, id: i64) -> ImportJob {
    app.import_job(client, id).await
}

async fn settle(app: &TestApp, client: &reqwest::Client, id: i64) -> ImportJob {
    app.settle_import(client, id).await
}

#[tokio::test]
async fn a_session_made_on_one_server_works_on_the_other() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    a.sign_in_owner().await;
    // The same browser (its cookie) reaches the second server through the balancer.
    let listed = b
        .call(&a.client, "list_users", json!({ "query": "" }))
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    let signed_out = b
        .call(&b.client, "list_users", json!({ "query": "" }))
        .await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    // Signing out on the second server ends the session on the first.
    let out = b.call(&a.client, "sign_out", json!({})).await;
    assert!(
        out.status().is_success() || out.status().is_redirection(),
        "{}",
        out.status()
    );
    let after = a
        .call(&a.client, "list_users", json!({ "query": "" }))
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_import_uploaded_on_one_server_is_applied_once() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    a.sign_in_owner().await;
    let mut csv = String::from("email,first_name,last_name\r\n");
    for i in 0..300 {
        csv.push_str(&format!("twice{i}@example.com,Twice,Number{i}\r\n"));
    }
    let uploaded =
        crate::helpers::upload_file(&a.client, &a.address, "twice.csv", csv.into_bytes(), true)
            .await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let id = uploaded.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .expect("the job id");
    // The other server sees the job (and its state) from the database.
    let previewed = settle(&b, &a.client, id).await;
    assert_eq!(previewed.state, JobState::Previewed, "{previewed:?}");
    assert_eq!(previewed.report.as_ref().map(|r| r.created), Some(300));

    // Apply pressed on both servers at once: one of them runs it.
    let body = json!({ "id": id, "skip_invalid": false });
    let (on_a, on_b) = tokio::join!(
        a.call_owned(a.client.clone(), "apply_import", body.clone()),
        b.call_owned(a.client.clone(), "apply_import", body.clone()),
    );
    let statuses = [on_a.status(), on_b.status()];
    assert_eq!(
        statuses.iter().filter(|s| s.is_success()).count(),
        1,
        "exactly one apply is accepted: {statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::CONFLICT), "{statuses:?}");
    let applied = settle(&a, &a.client, id).await;
    assert_eq!(applied.state, JobState::Applied, "{applied:?}");
    let users = a
        .scalar_i64(
            "SELECT COUNT(*) FROM users WHERE email LIKE 'twice%@example.com'",
            vec![],
        )
        .await;
    assert_eq!(users, 300);
    let audited = a
        .scalar_i64(
            "SELECT COUNT(*) FROM audit_log WHERE target_email LIKE 'twice%@example.com'",
            vec![],
        )
        .await;
    assert_eq!(audited, 300, "one audit entry per user, not two");
}

#[tokio::test]
async fn each_email_is_claimed_by_one_server() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    for i in 0..200 {
        a.exec(
            "INSERT INTO outbox (to_address, kind, subject, body, created_at) VALUES ($1, 'reset', 'Hello', 'Body', $2)",
            vec![format!("mail{i}@example.com").into(), Value::from(now())],
        )
        .await;
    }
    // Both servers drain the outbox at the same time, 7 at a time.
    let drain = |db: sea_orm::DatabaseConnection| async move {
        let mut mine = Vec::new();
        loop {
            let batch = outbox::claim_emails(&db, 7, now()).await.expect("claim");
            if batch.is_empty() {
                return mine;
            }
            for email in batch {
                outbox::mark_email(&db, email.id, Ok(()))
                    .await
                    .expect("mark");
                mine.push(email.id);
            }
        }
    };
    let (from_a, from_b) = tokio::join!(drain(a.db.clone()), drain(b.db.clone()));
    let a_ids: HashSet<i64> = from_a.iter().copied().collect();
    let b_ids: HashSet<i64> = from_b.iter().copied().collect();
    assert!(a_ids.is_disjoint(&b_ids), "an email went to both servers");
    assert_eq!(
        from_a.len() + from_b.len(),
        200,
        "every email went to a server once"
    );
    assert_eq!(a_ids.len() + b_ids.len(), 200);
    let unsent = a
        .scalar_i64("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", vec![])
        .await;
    assert_eq!(unsent, 0);

    // A claim that is given back (the mail server was down) is taken again.
    a.exec(
        "INSERT INTO outbox (to_address, kind, subject, body, created_at) VALUES ('late@example.com', 'reset', 'Hi', 'Body', $1)",
        vec![Value::from(now())],
    )
    .await;
    let claimed = outbox::claim_emails(&a.db, 10, now()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(outbox::claim_emails(&b.db, 10, now())
        .await
        .unwrap()
        .is_empty());
    outbox::release_emails(&a.db, &[claimed[0].id])
        .await
        .unwrap();
    assert_eq!(
        outbox::claim_emails(&b.db, 10, now()).await.unwrap().len(),
        1
    );
    // A server that died holding a claim: it runs out, and another server sends it.
    let later = now() + outbox::CLAIM + chrono::Duration::seconds(1);
    let taken_over = outbox::claim_emails(&a.db, 10, later).await.unwrap();
    assert_eq!(taken_over.len(), 1);
    // The slow server (b), back with its old claim, must not send it any more; the new
    // holder may.
    let email = &taken_over[0];
    let old_claim =
        outbox::claim_time(email.claimed_until - outbox::CLAIM - chrono::Duration::seconds(1));
    assert_eq!(
        outbox::reclaim_email(&b.db, email.id, old_claim, later)
            .await
            .unwrap(),
        None
    );
    assert!(
        outbox::reclaim_email(&a.db, email.id, email.claimed_until, later)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_job_whose_server_stopped_is_failed_by_another() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    a.sign_in_owner().await;
    let created = now();
    for (name, lease) in [
        ("stopped.csv", created - chrono::Duration::seconds(5)),
        ("running.csv", created + jobs::LEASE),
    ] {
        a.exec(
            "INSERT INTO import_jobs (actor_id, file_name, format, state, created_at, lease_until, progress) \
             VALUES (NULL, $1, 'csv', 'applying', $2, $3, '{\"phase\":\"Writing users\",\"done\":40,\"total\":100}')",
            vec![name.into(), Value::from(created), Value::from(lease)],
        )
        .await;
    }
    let id_of = |name: &'static str| {
        let a = &a;
        async move {
            a.scalar_i64(
                "SELECT id FROM import_jobs WHERE file_name = $1",
                vec![name.into()],
            )
            .await
        }
    };
    let (stopped, running) = (id_of("stopped.csv").await, id_of("running.csv").await);
    // The other server shows the progress the running job's server last wrote.
    let shown = job(&b, &a.client, running).await;
    let progress = shown.progress.expect("progress from the database");
    assert_eq!((progress.done, progress.total), (40, 100));

    assert_eq!(jobs::fail_abandoned(&b.db, now(), false).await.unwrap(), 1);
    let failed = job(&b, &a.client, stopped).await;
    assert_eq!(failed.state, JobState::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("nothing was written"),
        "{failed:?}"
    );
    assert_eq!(job(&a, &a.client, running).await.state, JobState::Applying);
    // Once its lease runs out too, it goes the same way.
    let later = now() + jobs::LEASE + chrono::Duration::seconds(1);
    assert_eq!(jobs::fail_abandoned(&b.db, later, false).await.unwrap(), 1);
    assert_eq!(job(&a, &a.client, running).await.state, JobState::Failed);
}

/// The per-status totals stay exact while two servers write users at once (no shared
/// counter row to wait on) and fold the totals at the same time.
#[tokio::test]
async fn totals_stay_exact_under_concurrent_writes_and_folds() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    async fn write(app: &TestApp, side: &'static str) {
        {
            for i in 0..40 {
                let mut user = TestUser::new("Count", &format!("{side}{i}"));
                user.email = format!("count-{side}-{i}@example.com");
                app.insert_user(user).await;
                if i % 10 == 9 {
                    app::backend::users::fold_counts(&app.db)
                        .await
                        .expect("fold");
                }
            }
            app.exec(
                "UPDATE users SET status = 'banned' WHERE email LIKE $1",
                vec![format!("count-{side}-1%").into()],
            )
            .await;
        }
    }
    tokio::join!(write(&a, "a"), write(&b, "b"));
    let (fa, fb) = tokio::join!(
        app::backend::users::fold_counts(&a.db),
        app::backend::users::fold_counts(&b.db)
    );
    fa.expect("fold on a");
    fb.expect("fold on b");
    a.exec("DELETE FROM users WHERE email LIKE 'count-a-2%'", vec![])
        .await;
    for status in ["active", "banned", "invited"] {
        let real = a
            .scalar_i64(
                "SELECT count(*) FROM users WHERE status = $1",
                vec![status.into()],
            )
            .await;
        let kept = b
            .scalar_i64(
                "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM user_counts WHERE status = $1",
                vec![status.into()],
            )
            .await;
        assert_eq!(real, kept, "{status}");
    }
    let banned = a
        .scalar_i64("SELECT count(*) FROM users WHERE status = 'banned'", vec![])
        .await;
    assert!(banned >= 22, "the bulk status changes happened: {banned}");
}

/// Failed sign-ins spread over two servers count as one: the fifth failure, whichever
/// server saw it, locks the account for this address on both. (PostgreSQL only: a
/// SQLite file has one server, which counts in its own memory.)
#[tokio::test]
async fn failed_sign_ins_on_two_servers_count_together() {
    let a = spawn_app().await;
    if a.backend() == sea_orm::DbBackend::Sqlite {
        eprintln!("SQLite has one server: the shared throttle is PostgreSQL's");
        return;
    }
    let b = spawn_beside(&a).await;
    app::backend::auth::create_admin(
        &a.db,
        crate::helpers::ADMIN_EMAIL,
        crate::helpers::ADMIN_PASSWORD,
    )
    .await
    .expect("admin");
    let attempt = |app: &TestApp, password: &'static str| {
        let url = format!("{}/api/sign_in", app.address);
        async move {
            crate::helpers::new_client()
                .post(url)
                .form(&[
                    ("email", crate::helpers::ADMIN_EMAIL),
                    ("password", password),
                ])
                .send()
                .await
                .expect("sign_in")
        }
    };
    for n in 0..app::backend::throttle::PAIR_FAILURES {
        let server = if n % 2 == 0 { &a } else { &b };
        let r = attempt(server, "wrong-password").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "failure {n}");
    }
    for server in [&a, &b] {
        let refused = attempt(server, crate::helpers::ADMIN_PASSWORD)
            .await
            .text()
            .await
            .expect("body");
        assert!(refused.contains("Too many failed sign-ins"), "{refused}");
    }
    let kept = a
        .scalar_i64(
            "SELECT count(*) FROM rate_limits WHERE counter = 'sign_in'",
            vec![],
        )
        .await;
    assert_eq!(kept, 3, "one row per count (pair, address, account)");
}
