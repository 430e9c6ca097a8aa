//! Server rendering of every signed-in page, among the other tests of this binary.

use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestUser};

// Server rendering awaits every resource of the page. It once stalled now and then in
// this binary: each test generated the route list, which holds every Leptos resource
// in the process back while it runs (see `server::route_list`, now generated once). A
// stall fails here after 30 s, naming the page, instead of hanging the suite.
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
