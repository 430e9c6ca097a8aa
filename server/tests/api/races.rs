//! Many admins saving the same user at once: each version is won by exactly one save,
//! the others are refused as stale, and nothing is lost or half written.

use app::domain::AppError;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{edit_form, spawn_app, TestApp, TestUser};

const EDITORS: usize = 50;

async fn save(app: &TestApp, id: i64, form: serde_json::Value) -> reqwest::Response {
    app.call(
        &app.client,
        "update_user",
        json!({ "id": id, "form": form }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_editors_saving_one_version_leave_one_winner_and_forty_nine_conflicts() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    let loaded = app.user_detail(id).await;

    // Every editor read the same version and saves a different job title.
    let saves = (0..EDITORS).map(|i| {
        let mut form = edit_form(&loaded);
        form["job_title"] = json!(format!("Title {i}"));
        let app = &app;
        async move { (i, save(app, id, form).await) }
    });
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for (i, response) in join_all(saves).await {
        match response.status() {
            StatusCode::OK => winners.push(i),
            StatusCode::CONFLICT => {
                let error = response.json::<AppError>().await.expect("an AppError");
                assert!(
                    matches!(&error, AppError::Conflict(m) if m.contains("changed by someone else")),
                    "editor {i}: {error:?}"
                );
                conflicts += 1;
            }
            other => panic!(
                "editor {i}: {other} {:?} (a save either wins or is refused as stale)",
                response.text().await
            ),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one save wins the version");
    assert_eq!(conflicts, EDITORS - 1);

    let saved = app.user_detail(id).await;
    assert_eq!(saved.version, loaded.version + 1, "one new version");
    assert_eq!(
        saved.job_title,
        format!("Title {}", winners[0]),
        "the winner's save is what is stored"
    );
    let audited = app
        .scalar_i64(
            "SELECT count(*) FROM audit_log WHERE action = 'user.update' AND target_user_id = $1",
            vec![id.into()],
        )
        .await;
    assert_eq!(audited, 1, "only the winning save is audited");

    // The next round starts from the winner's version: again exactly one wins.
    let round = (0..10).map(|i| {
        let mut form = edit_form(&saved);
        form["company"] = json!(format!("Company {i}"));
        let app = &app;
        async move { save(app, id, form).await.status() }
    });
    let statuses = join_all(round).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT));
    assert_eq!(app.user_detail(id).await.version, saved.version + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tags_and_groups_set_at_once_end_as_exactly_one_of_the_lists() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    for (endpoint, prefix) in [("set_user_tags", "tag"), ("set_user_groups", "group")] {
        // Each list is distinct and has three names: a mixture of two saves, or a
        // save half applied, matches none of them.
        let lists: Vec<Vec<String>> = (0..EDITORS)
            .map(|i| (0..3).map(|k| format!("{prefix}-{i}-{k}")).collect())
            .collect();
        let saves = lists.iter().map(|names| {
            let app = &app;
            async move {
                app.call(&app.client, endpoint, json!({ "id": id, "names": names }))
                    .await
                    .status()
            }
        });
        let statuses = join_all(saves).await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "{endpoint}: every set succeeds (the last one stays): {statuses:?}"
        );
        let detail = app.user_detail(id).await;
        let mut now: Vec<String> = if endpoint == "set_user_tags" {
            detail.tags.iter().map(|t| t.name.clone()).collect()
        } else {
            detail.groups.iter().map(|g| g.name.clone()).collect()
        };
        now.sort();
        assert!(
            lists.contains(&now),
            "{endpoint}: the user ends with exactly one submitted list, not {now:?}"
        );
    }
}
