//! `/metrics` in Prometheus' text format, for operators: requests and their latency by
//! route, the database pool, import jobs by state and emails waiting to be sent. Off
//! unless `--metrics-token` is set; then a scrape must send it as a bearer token.

use std::sync::OnceLock;
use std::time::Instant;

use app::backend::dialect::{Dialect, Run};
use app::backend::sql::Sql;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::ServerState;

const REQUESTS: &str = "roster_http_requests_total";
const DURATION: &str = "roster_http_request_duration_seconds";

/// The process's one recorder (installed on first use: tests start many routers);
/// `None` if it could not be installed (the reason is logged once).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(DURATION.into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0,
                    ],
                )
                .and_then(|b| b.install_recorder())
                .inspect_err(|e| tracing::error!(error = %e, "metrics are unavailable"))
                .ok()
        })
        .as_ref()
}

/// Counts every request and records its latency, labelled by the route's pattern
/// (`/users/{id}/activity.csv`, never the id itself) so the series stay few.
pub async fn track(request: Request, next: Next) -> Response {
    handle();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || "static or unmatched".to_string(),
        |p| p.as_str().to_string(),
    );
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(DURATION, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: 404 when metrics are off, 401 without the right bearer token.
pub async fn endpoint(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.app.config.metrics_token.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "Metrics are off: start the server with --metrics-token.",
        )
            .into_response();
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(sent.trim().as_bytes(), expected.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            "Send the metrics token as a bearer token.",
        )
            .into_response();
    }
    let Some(handle) = handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Metrics are unavailable: see the server log.",
        )
            .into_response();
    };
    if let Err(e) = gauges(&state).await {
        tracing::warn!(error = %e, "reading the metrics' database figures failed");
    }
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// Compares in time independent of where the texts differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The figures read at scrape time: the pool, import jobs by state, emails waiting.
async fn gauges(state: &ServerState) -> Result<(), sea_orm::DbErr> {
    let db = &state.app.db;
    let (size, idle) = match db.dialect() {
        Dialect::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        Dialect::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    metrics::gauge!("roster_db_pool_connections").set(f64::from(size));
    metrics::gauge!("roster_db_pool_idle_connections").set(idle as f64);
    let jobs: [(&'static str, &'static str, &[&'static str]); 2] = [
        (
            "roster_import_jobs",
            "import_jobs",
            &["uploaded", "previewed", "applying", "applied", "failed"],
        ),
        (
            "roster_bulk_jobs",
            "bulk_jobs",
            &["running", "done", "failed"],
        ),
    ];
    for (gauge, table, states) in jobs {
        let counts = db
            .all(Sql::new(&format!(
                "SELECT state, count(*) AS n FROM {table} GROUP BY state"
            )))
            .await?;
        for state_name in states {
            let mut n = 0;
            for row in &counts {
                if row.try_get::<String>("", "state")? == *state_name {
                    n = row.try_get::<i64>("", "n")?;
                }
            }
            metrics::gauge!(gauge, "state" => *state_name).set(n as f64);
        }
    }
    let waiting: i64 = match db
        .one(Sql::new(
            "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND error IS NULL",
        ))
        .await?
    {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    metrics::gauge!("roster_emails_waiting").set(waiting as f64);
    Ok(())
}
