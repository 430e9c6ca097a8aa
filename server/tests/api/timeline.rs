//! The activity timeline: reported activity and admin changes merged newest first,
//! kind filter, paging, notes added and deleted by hand (audited), the CSV download.

use app::domain::activity::{ActivityKind, TimelinePage};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{new_client, spawn_app, TestApp, TestUser};

async fn timeline(
    app: &TestApp,
    id: i64,
    kinds: &[ActivityKind],
    offset: u64,
    limit: u32,
) -> TimelinePage {
    let response = app
        .call(
            &app.client,
            "user_timeline",
            json!({ "user_id": id, "kinds": kinds, "offset": offset, "limit": limit }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a timeline page")
}

async fn activity(app: &TestApp, id: i64, minutes_ago: i64, kind: &str, name: &str) {
    app.exec(
        "INSERT INTO activities (user_id, at, kind, name, source) VALUES ($1, $2, $3, $4, 'web')",
        vec![
            id.into(),
            (Utc::now() - Duration::minutes(minutes_ago)).into(),
            kind.into(),
            name.into(),
        ],
    )
    .await;
}

#[tokio::test]
async fn activity_and_admin_changes_merge_newest_first_with_a_kind_filter() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    activity(&app, id, 30, "page_view", "/billing").await;
    activity(&app, id, 20, "feature", "export").await;
    activity(&app, id, 10, "sign_in", "Chrome on Linux").await;
    // An admin change, now: it comes first.
    app.call(
        &app.client,
        "set_user_tags",
        json!({ "id": id, "names": ["vip"] }),
    )
    .await;

    let page = timeline(&app, id, &[], 0, 50).await;

    let names: Vec<&str> = page.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["user.tags", "Chrome on Linux", "export", "/billing"]
    );
    assert_eq!(page.entries[0].kind, ActivityKind::AdminChange);
    assert!(
        !page.entries[0].deletable,
        "the audit log cannot be deleted from here"
    );
    assert!(
        page.entries[0].detail.contains("vip"),
        "{:?}",
        page.entries[0].detail
    );
    // The admin change in words, from its before and after; the user's own
    // activity has none.
    let words: Vec<_> = page.entries[0]
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.before.as_deref(), c.after.as_deref()))
        .collect();
    assert_eq!(words, [("Tags", Some("(none)"), Some("vip"))]);
    assert!(page.entries[1].changes.is_empty());
    assert!(!page.more);

    let pages = timeline(
        &app,
        id,
        &[ActivityKind::PageView, ActivityKind::Feature],
        0,
        50,
    )
    .await;
    let kinds: Vec<ActivityKind> = pages.entries.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![ActivityKind::Feature, ActivityKind::PageView]);
    let changes = timeline(&app, id, &[ActivityKind::AdminChange], 0, 50).await;
    assert_eq!(changes.entries.len(), 1);
}

#[tokio::test]
async fn the_timeline_pages_with_more_until_the_end() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    for i in 0..7 {
        activity(&app, id, i, "page_view", &format!("/page/{i}")).await;
    }
    let first = timeline(&app, id, &[], 0, 5).await;
    assert_eq!(first.entries.len(), 5);
    assert!(first.more);
    assert_eq!(first.entries[0].name, "/page/0");
    let rest = timeline(&app, id, &[], 5, 5).await;
    let names: Vec<&str> = rest.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["/page/5", "/page/6"]);
    assert!(!rest.more);
}

#[tokio::test]
async fn notes_are_added_and_deleted_by_hand_and_audited() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;

    let empty = app
        .call(
            &app.client,
            "add_timeline_entry",
            json!({ "user_id": id, "text": "  ", "at": null }),
        )
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let future = (Utc::now() + Duration::days(1)).timestamp();
    let later = app
        .call(
            &app.client,
            "add_timeline_entry",
            json!({ "user_id": id, "text": "x", "at": future }),
        )
        .await;
    assert_eq!(later.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let yesterday = (Utc::now() - Duration::days(1)).timestamp();
    let added = app
        .call(
            &app.client,
            "add_timeline_entry",
            json!({ "user_id": id, "text": "Called about the invoice", "at": yesterday }),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);

    let page = timeline(&app, id, &[], 0, 50).await;
    assert_eq!(
        page.entries.len(),
        1,
        "the note, not also its audit entry: {page:?}"
    );
    let note = &page.entries[0];
    assert_eq!(
        (note.kind, note.name.as_str()),
        (ActivityKind::Manual, "Called about the invoice")
    );
    assert_eq!(note.at.timestamp(), yesterday);
    assert!(note.deletable);

    let activity_id: i64 = note
        .key
        .trim_start_matches('a')
        .parse()
        .expect("an activity id");
    let deleted = app
        .call(
            &app.client,
            "delete_timeline_entry",
            json!({ "user_id": id, "activity_id": activity_id }),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let after = timeline(&app, id, &[], 0, 50).await;
    let names: Vec<&str> = after.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["activity.delete"],
        "the deletion shows as an admin change"
    );
    let audited = app
        .scalar_i64(
            "SELECT count(*) FROM audit_log WHERE action IN ('activity.add', 'activity.delete') AND target_user_id = $1",
            vec![id.into()],
        )
        .await;
    assert_eq!(audited, 2);
    let again = app
        .call(
            &app.client,
            "delete_timeline_entry",
            json!({ "user_id": id, "activity_id": activity_id }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_whole_timeline_downloads_as_csv_for_signed_in_admins_only() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    activity(&app, id, 5, "page_view", "/a,b").await;
    activity(&app, id, 1, "feature", "=cmd").await;
    let url = format!("{}/users/{id}/activity.csv", app.address);

    let response = app.client.get(&url).send().await.expect("request");

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(response.headers()["content-disposition"]
        .to_str()
        .expect("header")
        .contains(&format!("user-{id}-activity.csv")));
    let body = response.text().await.expect("body");
    let lines: Vec<&str> = body
        .trim_start_matches('\u{feff}')
        .trim_end()
        .split("\r\n")
        .collect();
    assert_eq!(lines[0], "at,kind,name,detail,source");
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains(",feature,'=cmd,,web"), "{}", lines[1]);
    assert!(
        lines[2].contains(",page_view,\"/a,b\",,web"),
        "{}",
        lines[2]
    );

    let anonymous = new_client().get(&url).send().await.expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let missing = app
        .client
        .get(format!("{}/users/999999/activity.csv", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
