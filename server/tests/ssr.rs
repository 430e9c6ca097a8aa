//! Server rendering of every signed-in page, in a test process of its own.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestUser};

// Server rendering awaits every resource of the page. Inside the `api` test binary,
// among a hundred tests running at once, this render stalled now and then (a future
// that was never woken; alone it passes in 0.3 s, also when six run in parallel
// processes), so it runs in a process of its own and fails after 30 s instead of
// hanging. Not understood yet: see the README's "Known issues".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signed_in_page_renders_on_the_server_past_its_loading_state() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let id = app.insert_user(TestUser::new("Ada", "Lovelace")).await;
    for path in [
        "/users".to_string(),
        format!("/users/{id}"),
        "/groups".into(),
        "/reminders".into(),
        "/settings".into(),
    ] {
        // A stalled render fails here, naming the page, instead of hanging the suite.
        let fetch = async {
            let response = app
                .client
                .get(format!("{}{path}", app.address))
                .header("accept", "text/html")
                .send()
                .await
                .expect("page");
            let status = response.status();
            (status, response.text().await.expect("body"))
        };
        let (status, body) = tokio::time::timeout(std::time::Duration::from_secs(30), fetch)
            .await
            .unwrap_or_else(|_| panic!("{path} did not finish rendering within 30 s"));
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            body.contains("<main"),
            "{path} renders its page, not the loading fallback"
        );
        assert!(
            body.contains("aria-label=\"Main\""),
            "{path} has the navigation"
        );
    }
}
