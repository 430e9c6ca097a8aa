//! Running the server as operators do: the health and readiness probes a load
//! balancer asks, and stopping the process with SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use app::backend::Config;

use crate::helpers::{spawn_app, spawn_app_with, spawn_app_with_site, spawn_unmigrated};

/// `/healthz` says the process and database answer; `/readyz` also that the schema is
/// the one this build migrates to, so a server is kept out until `server migrate`.
#[tokio::test]
async fn ready_only_once_the_schema_is_current() {
    let app = spawn_unmigrated().await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.address)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK);
    let not_ready = get("/readyz").await.unwrap();
    assert_eq!(not_ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = not_ready.text().await.unwrap();
    assert!(
        text.contains("pending") && text.contains("server migrate"),
        "{text}"
    );
    server::prepare_database(&app.db).await.expect("migrate");
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.text().await.unwrap(), "ready");

    let migrated = spawn_app().await;
    let ready = migrated
        .client
        .get(format!("{}/readyz", migrated.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// `/metrics` is off without a token, refuses a scrape without it, and with it answers
/// Prometheus' text: requests and latency by route pattern, the pool, import jobs by
/// state and emails waiting.
#[tokio::test]
async fn metrics_need_their_token_and_count_requests_by_route() {
    let off = spawn_app().await;
    let status = off
        .client
        .get(format!("{}/metrics", off.address))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);

    let app = spawn_app_with(Config {
        metrics_token: Some("scrape-secret".into()),
        ..Config::default()
    })
    .await;
    let url = format!("{}/metrics", app.address);
    for token in [None, Some("wrong")] {
        let mut request = app.client.get(&url);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "{token:?}"
        );
    }
    for _ in 0..3 {
        let readyz = app.client.get(format!("{}/readyz", app.address));
        assert_eq!(readyz.send().await.unwrap().status(), StatusCode::OK);
    }
    let activity = format!("{}/users/12345/activity.csv", app.address);
    app.client.get(&activity).send().await.unwrap();
    let response = app
        .client
        .get(&url)
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
            .to_string()
    };
    let ready = line("roster_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"}");
    let count: f64 = ready.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{ready}");
    line("roster_http_requests_total{route=\"/users/{id}/activity.csv\"");
    // (The recorder is the process's, shared by every test: a duration may well hold
    // the digits 12345, so only the route labels are looked at.)
    assert!(
        !text.lines().any(|l| l.contains("route=\"/users/12345")),
        "route patterns, not ids: {text}"
    );
    line("roster_http_request_duration_seconds_bucket{route=\"/readyz\"");
    line("roster_db_pool_connections ");
    line("roster_import_jobs{state=\"applying\"} 0");
    line("roster_bulk_jobs{state=\"running\"} 0");
    line("roster_emails_waiting 0");
}

/// The site's JS, WASM and CSS are compressed once at build time: a browser that
/// accepts brotli or gzip gets the file made then, byte for byte, never one compressed
/// on the fly; one that accepts neither gets the file itself. Content-named files may
/// be cached for a year, others must be checked again.
#[tokio::test]
async fn static_files_are_sent_as_compressed_at_build_time() {
    let site = tempfile::tempdir().expect("temp dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg dir");
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let name = "roster.0123456789abcdef.wasm";
    std::fs::write(pkg.join(name), &wasm).unwrap();
    // Stand-ins whose bytes no compressor would produce, to see which file is sent.
    std::fs::write(pkg.join(format!("{name}.br")), b"made at build time: br").unwrap();
    std::fs::write(pkg.join(format!("{name}.gz")), b"made at build time: gz").unwrap();
    std::fs::write(pkg.join("roster_bg.wasm"), &wasm).unwrap();
    let app = spawn_app_with_site(site.path().to_str().unwrap()).await;
    let fetch = |encoding: &'static str| {
        app.client
            .get(format!("{}/pkg/{name}", app.address))
            .header("accept-encoding", encoding)
            .send()
    };
    for (accept, encoding, body) in [
        ("br, gzip", Some("br"), b"made at build time: br".to_vec()),
        ("gzip", Some("gzip"), b"made at build time: gz".to_vec()),
        ("identity", None, wasm.clone()),
    ] {
        let response = fetch(accept).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(
            response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string()),
            encoding.map(String::from),
            "{accept}"
        );
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/wasm",
            "{accept}"
        );
        assert_eq!(
            response.headers().get("cache-control").unwrap(),
            "public, max-age=31536000, immutable",
            "{accept}"
        );
        assert_eq!(response.bytes().await.unwrap().to_vec(), body, "{accept}");
    }
    let unnamed = app
        .client
        .get(format!("{}/pkg/roster_bg.wasm", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(unnamed.status(), StatusCode::OK);
    assert_eq!(unnamed.headers().get("cache-control").unwrap(), "no-cache");
    let missing = app
        .client
        .get(format!("{}/pkg/roster.fedcba9876543210.wasm", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers().get("cache-control").unwrap(), "no-cache");
}

/// A page names the build's content-named files from its `hash.txt`.
#[tokio::test]
async fn pages_ask_for_the_content_named_files() {
    let site = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(site.path().join("pkg")).expect("pkg dir");
    std::fs::write(
        site.path().join("hash.txt"),
        "js: 1111111111111111\nwasm: 2222222222222222\ncss: 3333333333333333\n",
    )
    .unwrap();
    let app = spawn_app_with_site(site.path().to_str().unwrap()).await;
    let page = app
        .client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for file in [
        "/pkg/roster.1111111111111111.js",
        "/pkg/roster.2222222222222222.wasm",
        "/pkg/roster.3333333333333333.css",
    ] {
        assert!(page.contains(file), "{file} not in:\n{page}");
    }
}

/// `server serve` stops on SIGTERM (as systemd, Docker and Kubernetes ask) with exit
/// status 0, having said so, instead of being killed mid-request.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let log = serve_then_stop(&[]).await;
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("Roster stopped"), "{log}");
}

/// With `ROSTER_LOG_FORMAT=json` every log line is one JSON object with its level and
/// message, as log collectors read them.
#[cfg(unix)]
#[tokio::test]
async fn logs_are_json_lines_on_request() {
    let log = serve_then_stop(&[("ROSTER_LOG_FORMAT", "json")]).await;
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "{log}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["message"].is_string()),
        "{log}"
    );
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.contains("listening"))),
        "{log}"
    );
}

/// Runs `server serve` on a new SQLite file until `/readyz` answers, stops it with
/// SIGTERM, checks it exits 0 within 20 s and no longer listens; returns its log.
#[cfg(unix)]
async fn serve_then_stop(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("roster.db").display()
    );
    let (mut child, address) = crate::helpers::serve_binary(&url, env, true).await;
    let client = reqwest::Client::new();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let stopping = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "the server did not stop within 20 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let output = child.wait_with_output().expect("output");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(exit.success(), "exit {exit:?}: {log}");
    assert!(
        client
            .get(format!("{address}/healthz"))
            .send()
            .await
            .is_err(),
        "nothing listens after the stop"
    );
    log
}
