#![recursion_limit = "256"]
//! The Roster server: configuration, the axum router around the Leptos app, and the
//! middleware every request passes through. `main.rs` holds the CLI.

use std::net::SocketAddr;

use app::backend::{AppState, Config};
use app::{shell, App};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sea_orm::DatabaseConnection;

/// Router state: the Leptos options (for file serving) and our shared state.
#[derive(Clone)]
pub struct ServerState {
    pub leptos_options: LeptosOptions,
    pub app: AppState,
}

impl axum::extract::FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos_options.clone()
    }
}

/// Leptos options for serving the built site from `site_root` at `addr`.
pub fn leptos_options(site_root: &str, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("roster")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// Brings the schema up to date and makes sure the built-in roles exist.
pub async fn prepare_database(db: &DatabaseConnection) -> anyhow::Result<()> {
    use anyhow::Context;
    use migrations::MigratorTrait;
    migrations::Migrator::up(db, None)
        .await
        .context("running migrations")?;
    app::backend::roles::ensure_built_in(db)
        .await
        .context("creating built-in roles")?;
    Ok(())
}

/// The whole HTTP application.
pub fn router(db: DatabaseConnection, config: Config, leptos_options: LeptosOptions) -> Router {
    let app_state = AppState { db, config };
    let state = ServerState {
        leptos_options: leptos_options.clone(),
        app: app_state.clone(),
    };
    let routes = generate_route_list(App);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/users/{id}/activity.csv", get(activity_csv))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let app_state = app_state.clone();
                move || provide_context(app_state.clone())
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<ServerState, _>(shell))
        .layer(middleware::from_fn(same_origin_writes))
        .layer(middleware::from_fn(security_headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// The whole activity timeline of one user as CSV (UTF-8 with a BOM for Excel), for
/// signed-in admins who may read users.
async fn activity_csv(
    State(state): State<ServerState>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    headers: axum::http::HeaderMap,
) -> Response {
    use app::backend::{auth, timeline, ServiceError};
    use app::domain::permissions::USERS_READ;
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == auth::SESSION_COOKIE)
        .map(|(_, value)| value.to_string());
    let result = async {
        let token = token.ok_or(ServiceError::Unauthorized)?;
        let admin = auth::admin_for_token(&state.app.db, &state.app.config, &token).await?;
        auth::require(&admin, USERS_READ)?;
        timeline::all(&state.app.db, id).await
    }
    .await;
    match result {
        Ok(entries) => {
            let body = format!("\u{feff}{}", app::domain::activity::timeline_csv(&entries));
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"user-{id}-activity.csv\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(ServiceError::Unauthorized) => StatusCode::UNAUTHORIZED.into_response(),
        Err(ServiceError::Forbidden(_)) => StatusCode::FORBIDDEN.into_response(),
        Err(ServiceError::NotFound(what)) => {
            (StatusCode::NOT_FOUND, format!("{what} was not found.")).into_response()
        }
        Err(other) => {
            tracing::error!(error = ?other, "activity CSV failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn healthz(State(state): State<ServerState>) -> impl IntoResponse {
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Refuses state-changing requests sent from another origin (CSRF defence on top of
/// the SameSite=Strict cookie).
async fn same_origin_writes(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
        if let (Some(origin), Some(host)) = (origin, host) {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            if origin != "null" && origin_host != host {
                return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
            }
        }
    }
    next.run(request).await
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
