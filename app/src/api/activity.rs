//! The activity timeline in the drawer: a page of entries, notes added by hand, and
//! deleting an entry. The CSV download is a plain GET route in the server.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::activity::{ActivityKind, TimelinePage};
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
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::timeline::page(&state.db, user_id, &kinds, offset, limit.clamp(1, 500))
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
