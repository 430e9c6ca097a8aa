//! Server-side only: database access, services and their errors. Nothing here knows
//! about Leptos views or HTTP; every service takes a connection (or transaction) first.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod authority;
pub mod backup;
pub mod bulk;
pub mod bulk_jobs;
pub mod bulk_load;
pub mod comments;
pub mod db;
pub mod devices;
pub mod dialect;
pub mod entities;
pub mod error;
pub mod events;
pub mod field_sql;
pub mod fields;
pub mod groups;
pub mod lease;
pub mod limits;
pub mod links;
pub mod memberships;
pub mod outbox;
pub mod prefs;
pub mod reminders;
pub mod roles;
pub mod seed;
pub mod signup;
pub mod sql;
pub mod status_undo;
pub mod tags;
pub mod throttle;
pub mod timeline;
pub mod transfer;
pub mod user_rows;
pub mod user_sessions;
pub mod user_writes;
pub mod users;

pub use error::ServiceError;
pub use limits::Limits;

use sea_orm::DatabaseConnection;

/// Shared server state, provided to every server function through the context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Config,
    pub limits: std::sync::Arc<Limits>,
    /// Progress of running imports and exports.
    pub jobs: std::sync::Arc<transfer::Jobs>,
}

/// Runtime settings the services need (the server's CLI fills it in).
#[derive(Clone, Debug)]
pub struct Config {
    /// Admin sessions expire this long after their last use.
    pub session_ttl: chrono::Duration,
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookies: bool,
    /// Seat quota: creating users past this many is refused.
    pub max_users: Option<u64>,
    /// How long a delete can be undone before the user is purged for good.
    pub undo_window: chrono::Duration,
    /// Requests per minute one API key may send to the events endpoint.
    pub event_requests_per_minute: u32,
    /// Signups per minute from one IP address.
    pub signups_per_minute: u32,
    /// Activity older than this many days is purged.
    pub activity_retention_days: i64,
    /// Largest file an import may upload, in bytes.
    pub max_upload_bytes: u64,
    /// The address users reach Roster at, for links in emails (no trailing slash).
    pub public_url: String,
    /// Proxies whose `X-Forwarded-For` names the client (none: the peer is the client).
    pub trusted_proxies: throttle::TrustedProxies,
    /// Most entries each rate counter keeps.
    pub throttle_capacity: usize,
    /// The bearer token `/metrics` asks for (none: the endpoint is off).
    pub metrics_token: Option<String>,
    /// How long a bulk command on "all matching" users is waited for before the
    /// request answers with its background job instead.
    pub bulk_wait: std::time::Duration,
    /// How many matches a filtered page of the users table counts exactly; past it
    /// the page says "more than …" and `count_users` counts on request.
    pub exact_count_up_to: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl: chrono::Duration::hours(12),
            secure_cookies: false,
            max_users: None,
            undo_window: chrono::Duration::seconds(60),
            event_requests_per_minute: 600,
            signups_per_minute: 10,
            activity_retention_days: 365,
            max_upload_bytes: crate::domain::transfer::DEFAULT_MAX_UPLOAD_MB * 1024 * 1024,
            public_url: "http://127.0.0.1:3000".into(),
            trusted_proxies: throttle::TrustedProxies::default(),
            throttle_capacity: throttle::DEFAULT_CAPACITY,
            bulk_wait: std::time::Duration::from_secs(2),
            exact_count_up_to: crate::domain::user::EXACT_COUNT_UP_TO,
            metrics_token: None,
        }
    }
}

/// The current time, truncated to whole seconds so that stored timestamps have one
/// text form on SQLite and compare correctly as strings.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(0)
}
