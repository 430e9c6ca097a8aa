//! The activity timeline in the drawer: a page of entries, notes added by hand, and
//! deleting an entry. The CSV download is a plain GET route in the server.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::activity::{ActivityKind, ApiKeyInfo, ReminderInfo, TimelinePage};
use crate::domain::AppError;

#[cfg(feature = "ssr")]
use super::guard::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::domain::permissions::{USERS_READ, USERS_WRITE};

/// The newest `limit` entries (at most 500) of a user's timeline after skipping
/// `offset`; `kinds` empty means all kinds.
#[server(endpoint = "user_timeline", input = Json)]
pub async fn user_timeline(
    user_id: i64,
    kinds: Vec<ActivityKind>,
    offset: u64,
    limit: u32,
) -> Result<TimelinePage, AppError> {
    let (state, admin) = authorize(USERS_READ).await?;
    // What admins did to the user is the audit log's: shown only with audit.read.
    let with_audit = admin
        .permissions
        .iter()
        .any(|p| p == crate::domain::permissions::AUDIT_READ);
    let limit = limit.clamp(1, 500);
    crate::backend::timeline::page(&state.db, user_id, &kinds, offset, limit, with_audit)
        .await
        .map_err(fail)
}

/// Adds a note to a user's timeline; `at` (Unix seconds) defaults to now.
#[server(endpoint = "add_timeline_entry", input = Json)]
pub async fn add_timeline_entry(
    user_id: i64,
    text: String,
    at: Option<i64>,
) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    let at = match at {
        Some(secs) => Some(chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| {
            fail(crate::backend::ServiceError::field(
                "at",
                "That is not a valid time.",
            ))
        })?),
        None => None,
    };
    crate::backend::timeline::add_manual(&state.db, &admin, user_id, &text, at)
        .await
        .map_err(fail)
}

/// Deletes an activity entry of a user (audited).
#[server(endpoint = "delete_timeline_entry", input = Json)]
pub async fn delete_timeline_entry(user_id: i64, activity_id: i64) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::timeline::delete(&state.db, &admin, user_id, activity_id)
        .await
        .map_err(fail)
}

/// A user's reminders.
#[server(endpoint = "user_reminders", input = Json)]
pub async fn user_reminders(user_id: i64) -> Result<Vec<ReminderInfo>, AppError> {
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::reminders::for_user(&state.db, user_id)
        .await
        .map_err(fail)
}

/// Open reminders due by the end of today (UTC) across all users, and their count.
#[server(endpoint = "due_reminders", input = Json)]
pub async fn due_reminders() -> Result<Vec<ReminderInfo>, AppError> {
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::reminders::due(&state.db, end_of_today())
        .await
        .map_err(fail)
}

/// How many reminders are due by the end of today (the navigation badge).
#[server(endpoint = "due_reminder_count", input = Json)]
pub async fn due_reminder_count() -> Result<i64, AppError> {
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::reminders::due_count(&state.db, end_of_today())
        .await
        .map_err(fail)
}

#[cfg(feature = "ssr")]
fn end_of_today() -> chrono::DateTime<chrono::Utc> {
    let today = crate::backend::now().date_naive();
    today
        .succ_opt()
        .unwrap_or(today)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

#[cfg(feature = "ssr")]
fn time_from(secs: i64) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| {
        fail(crate::backend::ServiceError::field(
            "due_at",
            "That is not a valid time.",
        ))
    })
}

/// Adds a reminder (due at Unix seconds `due_at`).
#[server(endpoint = "add_reminder", input = Json)]
pub async fn add_reminder(user_id: i64, due_at: i64, body: String) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::reminders::add(&state.db, &admin, user_id, time_from(due_at)?, &body)
        .await
        .map_err(fail)
}

/// Edits a reminder or marks it done.
#[server(endpoint = "update_reminder", input = Json)]
pub async fn update_reminder(
    id: i64,
    due_at: i64,
    body: String,
    done: bool,
) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::reminders::update(&state.db, &admin, id, time_from(due_at)?, &body, done)
        .await
        .map_err(fail)
}

#[server(endpoint = "delete_reminder", input = Json)]
pub async fn delete_reminder(id: i64) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::reminders::delete(&state.db, &admin, id)
        .await
        .map_err(fail)
}

/// Every API key (never the keys themselves).
#[server(endpoint = "list_api_keys", input = Json)]
pub async fn list_api_keys() -> Result<Vec<ApiKeyInfo>, AppError> {
    use crate::domain::permissions::API_KEYS_MANAGE;
    let (state, _) = authorize(API_KEYS_MANAGE).await?;
    crate::backend::api_keys::list_keys(&state.db)
        .await
        .map_err(fail)
}

/// Creates an API key; the returned key is shown once and stored only hashed.
#[server(endpoint = "create_api_key", input = Json)]
pub async fn create_api_key(name: String) -> Result<String, AppError> {
    use crate::domain::permissions::API_KEYS_MANAGE;
    let (state, admin) = authorize(API_KEYS_MANAGE).await?;
    crate::backend::api_keys::create_key(&state.db, &admin, &name)
        .await
        .map_err(fail)
}

#[server(endpoint = "revoke_api_key", input = Json)]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    use crate::domain::permissions::API_KEYS_MANAGE;
    let (state, admin) = authorize(API_KEYS_MANAGE).await?;
    crate::backend::api_keys::revoke_key(&state.db, &admin, id)
        .await
        .map_err(fail)
}
