//! The audit log page's data and CSV: filters by actor, target, action and day;
//! paging; permissions.

use app::domain::audit::{AuditPage, ChangeLine};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{edit_form, spawn_app, TestApp, TestUser};

async fn log(
    app: &TestApp,
    client: &reqwest::Client,
    query: serde_json::Value,
) -> reqwest::Response {
    app.call(client, "list_audit", json!({ "query": query }))
        .await
}

fn query(actor: &str, target: &str, action: &str) -> serde_json::Value {
    json!({ "actor": actor, "target": target, "action": action, "from": null, "to": null, "page": 1 })
}

#[tokio::test]
async fn the_log_is_filtered_by_actor_target_action_and_day_and_downloads_as_csv() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let ann = app.insert_user(TestUser::new("Ann", "One")).await;
    let bob = app.insert_user(TestUser::new("Bob", "Two")).await;
    for (id, first) in [(ann, "Anna"), (bob, "Bobby")] {
        let mut form = edit_form(&app.user_detail(id).await);
        form["first_name"] = json!(first);
        let r = app
            .call(
                &app.client,
                "update_user",
                json!({ "id": id, "form": form }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .call(
            &app.client,
            "set_user_tags",
            json!({ "id": ann, "names": ["vip"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let tags: AuditPage = log(&app, &app.client, query("", "", "user.tags"))
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(tags.entries.len(), 1, "an exact action");
    // Each entry also comes in words, field by field.
    assert_eq!(
        tags.entries[0].changes,
        [ChangeLine {
            field: "Tags".into(),
            before: Some("(none)".into()),
            after: Some("vip".into()),
        }]
    );

    let all: AuditPage = log(&app, &app.client, query("", "", ""))
        .await
        .json()
        .await
        .expect("page");
    assert!(all.entries.len() >= 2);
    assert!(
        all.entries
            .windows(2)
            .all(|w| (w[0].at, w[0].id) >= (w[1].at, w[1].id)),
        "newest first"
    );

    let updates: AuditPage = log(&app, &app.client, query("", "ann.one", "user.update"))
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(updates.entries.len(), 1);
    let e = &updates.entries[0];
    assert_eq!(e.target_email, "ann.one@example.com");
    assert_eq!(e.actor_email, crate::helpers::ADMIN_EMAIL);
    assert_eq!(e.before, Some(json!({ "first_name": "Ann" })));
    assert_eq!(e.after, Some(json!({ "first_name": "Anna" })));
    assert_eq!(
        e.changes,
        [ChangeLine {
            field: "First name".into(),
            before: Some("Ann".into()),
            after: Some("Anna".into()),
        }]
    );

    let prefix: AuditPage = log(&app, &app.client, query("OWNER@", "", "user."))
        .await
        .json()
        .await
        .expect("page");
    assert!(prefix.entries.iter().all(|e| e.action.starts_with("user.")));
    assert!(prefix.entries.len() >= 2);
    let nobody: AuditPage = log(&app, &app.client, query("someone-else", "", ""))
        .await
        .json()
        .await
        .expect("page");
    assert!(nobody.entries.is_empty());
    let future: AuditPage = log(
        &app,
        &app.client,
        json!({ "actor": "", "target": "", "action": "", "from": "2999-01-01", "to": null, "page": 1 }),
    )
    .await
    .json()
    .await
    .expect("page");
    assert!(
        future.entries.is_empty(),
        "a from-day in the future matches nothing"
    );

    let csv = app
        .client
        .get(format!(
            "{}/audit.csv?action=user.update&target=bob",
            app.address
        ))
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.expect("body");
    let lines: Vec<&str> = text
        .trim_start_matches('\u{feff}')
        .trim()
        .split("\r\n")
        .collect();
    assert_eq!(lines[0], "at,actor,action,target_id,target,before,after");
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].contains("user.update")
            && lines[1].contains("bob.two@example.com")
            && lines[1].contains("Bobby")
    );
}

#[tokio::test]
async fn reading_the_log_needs_audit_read() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let support = app.sign_in_as("support@example.com", "support").await;
    assert_eq!(
        log(&app, &support, query("", "", "")).await.status(),
        StatusCode::FORBIDDEN
    );
    let csv = support
        .get(format!("{}/audit.csv", app.address))
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), StatusCode::FORBIDDEN);
    let anonymous = crate::helpers::new_client();
    assert_eq!(
        log(&app, &anonymous, query("", "", "")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let admin = app.sign_in_as("admin@example.com", "admin").await;
    assert_eq!(
        log(&app, &admin, query("", "", "")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_audit_csv_streams_every_entry_across_chunks_once_in_order() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    // 4,500 entries at one instant: the chunks (2,000) must page by id within it.
    app.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4500) \
         INSERT INTO audit_log (at, actor_email, action, target_email) \
         SELECT $1, 'bulk@example.com', 'test.entry', 'n' || i FROM n",
        vec![app::backend::now().into()],
    )
    .await;
    let text = app
        .client
        .get(format!("{}/audit.csv?action=test.entry", app.address))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("body");
    let targets: Vec<String> = text
        .trim_start_matches('\u{feff}')
        .trim()
        .split("\r\n")
        .skip(1)
        .map(|line| line.split(',').nth(4).unwrap_or_default().to_string())
        .collect();
    let want: Vec<String> = (1..=4500).rev().map(|i| format!("n{i}")).collect();
    assert_eq!(targets.len(), want.len(), "each entry once");
    assert!(targets == want, "newest (highest id) first");
}

#[tokio::test]
async fn a_bulk_action_is_listed_once_and_opens_to_each_users_entry() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let mut ids = Vec::new();
    for first in ["Ann", "Bob", "Cy"] {
        ids.push(app.insert_user(TestUser::new(first, "Batch")).await);
    }
    let lone = app.insert_user(TestUser::new("Dee", "Alone")).await;
    let bulk = |ids: Vec<i64>| {
        let app = &app;
        async move {
            let r = app
                .call(
                    &app.client,
                    "bulk_users",
                    json!({
                        "selection": app::domain::Selection::Ids(ids),
                        "action": app::domain::BulkAction::AddTag("grouped".into()),
                    }),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
    };
    bulk(ids.clone()).await;
    bulk(vec![lone]).await;
    let page = |q: serde_json::Value| {
        let app = &app;
        async move {
            let page: AuditPage = log(app, &app.client, q).await.json().await.expect("page");
            page.entries
        }
    };

    // The whole log: the three-user command once, with its size; the one-user
    // command as an ordinary entry.
    let listed = page(query("", "", "user.tag_add")).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let grouped = listed
        .iter()
        .find(|e| e.batch_size.is_some())
        .expect("the bulk command");
    assert_eq!(grouped.batch_size, Some(3));
    assert_eq!(
        grouped.changes,
        [ChangeLine {
            field: "Tags".into(),
            before: None,
            after: Some("grouped".into()),
        }]
    );
    let single = listed
        .iter()
        .find(|e| e.batch_size.is_none())
        .expect("the one-user command");
    assert_eq!(single.target_user_id, Some(lone));
    assert_eq!(single.batch_id, None);

    // Opened: each user's entry.
    let mut q = query("", "", "");
    q["batch"] = json!(grouped.batch_id.expect("its batch"));
    let opened = page(q).await;
    let mut targets: Vec<i64> = opened.iter().filter_map(|e| e.target_user_id).collect();
    targets.sort_unstable();
    assert_eq!(targets, ids);
    assert!(opened.iter().all(|e| e.batch_size.is_none()));

    // A target filter finds the user's own entry of the command.
    let bobs = page(query("", "bob.batch", "user.tag_add")).await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].target_user_id, Some(ids[1]));

    // The CSV keeps every entry.
    let csv = app
        .client
        .get(format!("{}/audit.csv?action=user.tag_add", app.address))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("body");
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
}
