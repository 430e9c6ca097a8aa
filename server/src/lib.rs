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
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use sea_orm::DatabaseConnection;

mod account_api;
pub mod mailer;
pub mod metrics;
pub mod transfer;

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

/// Leptos options for serving the built site from `site_root` at `addr`. A build
/// names its files by their content (`frontend/hash-site.sh`) and lists the names in
/// `hash.txt`; pages then ask for those names.
pub fn leptos_options(site_root: &str, addr: SocketAddr) -> LeptosOptions {
    let hash_file = std::path::Path::new(site_root).join("hash.txt");
    // Leptos looks the file up beside the executable; an absolute path points it here.
    let hash_file = std::path::absolute(&hash_file).unwrap_or(hash_file);
    LeptosOptions::builder()
        .output_name("roster")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_files(hash_file.is_file())
        .hash_file(std::sync::Arc::<str>::from(hash_file.to_string_lossy()))
        .build()
}

/// The site's files under /pkg: the brotli or gzip copy made at build time when the
/// browser takes it, and a year in the browser's cache for the content-named files
/// (a new build has new names), none for any other.
fn site_files(site_root: &str) -> Router<ServerState> {
    use tower_http::services::ServeDir;
    let dir = ServeDir::new(std::path::Path::new(site_root).join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(dir)
        .layer(middleware::from_fn(cache_by_name))
}

async fn cache_by_name(request: Request, next: Next) -> Response {
    let immutable = is_content_named(request.uri().path());
    let mut response = next.run(request).await;
    // A revalidation (304) keeps the year too, or the browser would ask every time.
    let kept = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let value = if immutable && kept {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Whether a file name carries its content's hash, as `frontend/hash-site.sh` writes it
/// (`roster.<16 hex digits>.<ext>`).
pub fn is_content_named(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("roster"), Some(hash), Some("js" | "wasm" | "css"), None)
            if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    )
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
    app::backend::fields::ensure_all_indexes(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("indexing custom profile fields")?;
    app::backend::field_sql::refresh_connections(db).await;
    Ok(())
}

/// The whole HTTP application.
pub fn router(db: DatabaseConnection, config: Config, leptos_options: LeptosOptions) -> Router {
    let limits = std::sync::Arc::new(app::backend::Limits::new(&config));
    router_with_limits(db, config, leptos_options, limits)
}

/// [`router`] with these request limits (a test reads their footprint).
pub fn router_with_limits(
    db: DatabaseConnection,
    config: Config,
    leptos_options: LeptosOptions,
    limits: std::sync::Arc<app::backend::Limits>,
) -> Router {
    let max_upload_bytes = config.max_upload_bytes;
    let https = config.secure_cookies;
    let app_state = AppState {
        db,
        config,
        limits,
        jobs: Default::default(),
    };
    let state = ServerState {
        leptos_options: leptos_options.clone(),
        app: app_state.clone(),
    };
    let routes = route_list();
    // Every endpoint comes from [`endpoints`], the list the permission test walks.
    let mut own = Router::new();
    let mut api = Router::new();
    for e in endpoints(max_upload_bytes) {
        match e.path.strip_prefix("/api/v1") {
            Some(rest) => api = api.route(rest, e.handler),
            None => own = own.route(e.path, e.handler),
        }
    }
    own.nest("/api/v1", public_api(api))
        .nest("/pkg", site_files(&leptos_options.site_root))
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
        .layer(middleware::from_fn_with_state(https, security_headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(middleware::from_fn(metrics::track))
        .with_state(state)
}

/// The app's page routes, generated once per process. Generating them stands every
/// Leptos resource aside process-wide (leptos_router's `SuppressResourceLoad` sets a
/// global flag until it is done), so a page rendering meanwhile on another thread, for
/// another router in the same process, waited forever on a resource that never
/// loaded: the stall the `api` tests met when each test built its own router.
pub fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Who may call an HTTP endpoint. The permission test walks [`endpoints`] and proves
/// that each refuses a caller without this access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the health check, the users' own sign-in and links, the rate-limited
    /// signup.
    Public,
    /// An API key of the admins' own apps.
    ApiKey,
    /// A managed user's session token (`/api/v1/auth/*`).
    UserToken,
    /// A signed-in admin whose role grants this permission.
    Admin(&'static str),
    /// The operators' metrics token (`--metrics-token`); off without one.
    MetricsToken,
}

/// One HTTP endpoint besides the Leptos pages and server functions.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub handler: axum::routing::MethodRouter<ServerState>,
}

impl Endpoint {
    pub fn new(
        method: Method,
        path: &'static str,
        access: Access,
        handler: axum::routing::MethodRouter<ServerState>,
    ) -> Self {
        Endpoint {
            method,
            path,
            access,
            handler,
        }
    }
}

/// Every HTTP endpoint the router serves besides pages and server functions, with
/// the access each needs. Paths under `/api/v1` are the public API (CORS, no cookies).
pub fn endpoints(max_upload_bytes: u64) -> Vec<Endpoint> {
    use app::domain::permissions::USERS_READ;
    let mut list = vec![
        Endpoint::new(Method::GET, "/healthz", Access::Public, get(healthz)),
        Endpoint::new(Method::GET, "/readyz", Access::Public, get(readyz)),
        Endpoint::new(
            Method::GET,
            "/metrics",
            Access::MetricsToken,
            get(metrics::endpoint),
        ),
        Endpoint::new(
            Method::GET,
            "/users/{id}/activity.csv",
            Access::Admin(USERS_READ),
            get(activity_csv),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/events",
            Access::ApiKey,
            axum::routing::post(post_events),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/signup",
            Access::Public,
            axum::routing::post(post_signup),
        ),
    ];
    list.extend(account_api::endpoints());
    list.extend(transfer::endpoints(max_upload_bytes));
    list
}

/// The endpoints the admins' own apps and the managed users call: authenticated by
/// API key (events) or user token, or open and rate limited (signup, sign-in);
/// callable from any origin (CORS), never by cookie.
fn public_api(api: Router<ServerState>) -> Router<ServerState> {
    use tower_http::cors::{Any, CorsLayer};
    api.layer(
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
    )
}

/// A JSON error with a stable code.
fn api_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(app::domain::ApiError::new(code, message)),
    )
        .into_response()
}

fn rate_limited(wait: u64) -> Response {
    let mut response = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("Too many requests; try again in {wait} s."),
    );
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn internal(err: app::backend::ServiceError) -> Response {
    let (status, body) = app::api::edge::api_error(err);
    (status, axum::Json(body)).into_response()
}

#[derive(serde::Deserialize)]
struct EventsBody {
    events: Vec<app::backend::events::EventIn>,
}

/// `POST /api/v1/events` with `Authorization: Bearer <key>` and
/// `{"events": [{"user", "kind", "name", "at"?, "detail"?}]}`.
async fn post_events(
    State(state): State<ServerState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use app::backend::{api_keys, events, ServiceError};
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let key_id = match api_keys::key_id(&state.app.db, key).await {
        Ok(id) => id,
        Err(ServiceError::Unauthorized) => {
            return api_error(
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "Send an active API key as `Authorization: Bearer <key>`.",
            )
        }
        Err(e) => return internal(e),
    };
    match state.app.limits.event_request(&state.app.db, key_id).await {
        Ok(Ok(())) => {}
        Ok(Err(wait)) => return rate_limited(wait),
        Err(e) => return internal(e.into()),
    }
    let body: EventsBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("Expected {{\"events\": [...]}}: {e}"),
            )
        }
    };
    match events::ingest(&state.app.db, key_id, body.events).await {
        Ok(report) => (StatusCode::OK, axum::Json(report)).into_response(),
        Err(ServiceError::Validation(fields)) => api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            fields.into_values().flatten().collect::<Vec<_>>().join(" "),
        ),
        Err(e) => internal(e),
    }
}

/// `POST /api/v1/signup`: a public signup from the admins' own forms.
async fn post_signup(State(state): State<ServerState>, request: Request) -> Response {
    use app::backend::{signup, ServiceError};
    let client = app::backend::auth::ClientInfo::from_request(
        request.headers(),
        request.extensions(),
        &state.app.config,
    );
    let body = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_body",
                "The body is larger than 64 KB.",
            )
        }
    };
    let caller = client.address.map(app::backend::throttle::address_group);
    match state
        .app
        .limits
        .signup_request(&state.app.db, caller.unwrap_or_default())
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(wait)) => return rate_limited(wait),
        Err(e) => return internal(e.into()),
    }
    let form: signup::SignupIn = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()),
    };
    // A new account and an existing one are answered alike, so the endpoint cannot be
    // used to find out who is registered.
    match signup::signup(&state.app.db, &state.app.config, form).await {
        Ok(_) => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({
                "status": "received",
                "message": "Thanks for signing up. If this address can be used, the next step is on its way.",
            })),
        )
            .into_response(),
        Err(ServiceError::Validation(fields)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "error": "validation", "fields": fields })),
        )
            .into_response(),
        Err(ServiceError::Conflict(m)) => api_error(StatusCode::FORBIDDEN, "signups_closed", m),
        Err(e) => internal(e),
    }
}

/// The whole activity timeline of one user as CSV (UTF-8 with a BOM for Excel), for
/// signed-in admins who may read users.
async fn activity_csv(
    State(state): State<ServerState>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    headers: axum::http::HeaderMap,
) -> Response {
    use app::domain::permissions::USERS_READ;
    let admin = match transfer::admin_for(&state, &headers, USERS_READ).await {
        Ok(admin) => admin,
        Err(refused) => return refused,
    };
    let with_audit = admin
        .permissions
        .iter()
        .any(|p| p == app::domain::permissions::AUDIT_READ);
    match app::backend::timeline::all(&state.app.db, id, with_audit).await {
        Ok(entries) => {
            let body = format!("\u{feff}{}", app::domain::activity::timeline_csv(&entries));
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        transfer::content_disposition(&format!("user-{id}-activity.csv")),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => transfer::error_response(e),
    }
}

async fn healthz(State(state): State<ServerState>) -> impl IntoResponse {
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Ready for traffic: the database answers and its schema is the one this build
/// migrates to (a load balancer keeps a server out until then, e.g. during a
/// `server migrate` of a new version).
async fn readyz(State(state): State<ServerState>) -> impl IntoResponse {
    use migrations::MigratorTrait;
    if state.app.db.ping().await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable".to_string(),
        );
    }
    match migrations::Migrator::get_pending_migrations_read_only(&state.app.db).await {
        Ok(pending) if pending.is_empty() => (StatusCode::OK, "ready".to_string()),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} database migration(s) pending: run `server migrate`",
                pending.len()
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "reading the migration status failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the database schema does not match this build: {e}"),
            )
        }
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or SIGTERM (systemd,
/// Docker, Kubernetes). The server then stops accepting connections and finishes the
/// requests in flight.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: no new connections, finishing the requests in flight");
}

/// Refuses state-changing requests sent from another origin (CSRF defence on top of
/// the SameSite=Strict cookie).
/// The server functions that take a plain form post (the sign-in and password forms
/// work before the WASM has loaded); every other `/api/<name>` takes JSON only.
pub const FORM_SERVER_FNS: [&str; 4] =
    ["sign_in", "sign_out", "current_admin", "change_my_password"];

/// Why a write may not go on, if it may not: every write outside the public API
/// (which never uses cookies) must show it comes from this site's own pages, by an
/// `Origin` naming this host or `Sec-Fetch-Site: same-origin`; `Origin: null` and
/// neither header are refused. A JSON server function needs a JSON body.
pub fn refuse_write(
    method: &Method,
    path: &str,
    headers: &axum::http::HeaderMap,
) -> Option<(StatusCode, &'static str)> {
    if path.starts_with("/api/v1/")
        || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
    {
        return None;
    }
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text(header::HOST);
    let fetch_site = text(header::HeaderName::from_static("sec-fetch-site"));
    let same_origin = match (text(header::ORIGIN), fetch_site) {
        (Some(origin), _) => {
            let origin_host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            origin_host.is_some() && origin_host == host
        }
        (None, Some(site)) => site == "same-origin",
        (None, None) => false,
    };
    if fetch_site.is_some_and(|site| site != "same-origin") || !same_origin {
        return Some((
            StatusCode::FORBIDDEN,
            "Refused: this write did not come from Roster's own pages (its Origin is missing, null or another site's).",
        ));
    }
    if let Some(name) = path.strip_prefix("/api/") {
        let json = text(header::CONTENT_TYPE).is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json && !FORM_SERVER_FNS.contains(&name) {
            return Some((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send this call as JSON (Content-Type: application/json).",
            ));
        }
    }
    None
}

async fn same_origin_writes(request: Request, next: Next) -> Response {
    if let Some(refusal) = refuse_write(request.method(), request.uri().path(), request.headers()) {
        return refusal.into_response();
    }
    next.run(request).await
}

async fn security_headers(State(https): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if https {
        // Served over HTTPS: browsers never try plain HTTP again for a year.
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
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

#[cfg(test)]
mod tests {
    use super::is_content_named;

    #[test]
    fn only_files_named_by_their_hash_are_immutable() {
        assert!(is_content_named("/roster.0123456789abcdef.wasm"));
        assert!(is_content_named("/pkg/roster.0123456789abcdef.css"));
        assert!(is_content_named("roster.fedcba9876543210.js"));
        for name in [
            "/roster_bg.wasm",
            "/roster.js",
            "/roster.0123456789abcde.wasm",
            "/roster.0123456789abcdeg.wasm",
            "/roster.0123456789abcdef.wasm.br",
            "/other.0123456789abcdef.js",
            "/roster.0123456789abcdef.html",
        ] {
            assert!(!is_content_named(name), "{name}");
        }
    }
}
