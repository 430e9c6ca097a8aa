//! What admins do to a managed user's sign-in: reset the password (emailed link or
//! temporary password), send an invitation, end every session; and the outbox of
//! emails those write.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::email::{OutboxEmail, ResetMode};
use crate::domain::AppError;

#[cfg(feature = "ssr")]
use super::guard::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::domain::permissions::{USERS_PASSWORDS, USERS_SESSIONS};

/// Resets user `id`'s password; the old one stops working and every session ends.
/// Returns the temporary password (shown once) when `mode` is `Temporary`.
#[server(endpoint = "reset_password", input = Json)]
pub async fn reset_password(id: i64, mode: ResetMode) -> Result<Option<String>, AppError> {
    let (state, admin) = authorize(USERS_PASSWORDS).await?;
    crate::backend::links::reset_password(&state.db, &state.config, &admin, id, mode)
        .await
        .map_err(fail)
}

/// Emails an invitation link (7 days) to set a password; replaces an earlier link.
#[server(endpoint = "send_invitation", input = Json)]
pub async fn send_invitation(id: i64) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_PASSWORDS).await?;
    crate::backend::links::send_invitation(&state.db, &state.config, &admin, id)
        .await
        .map_err(fail)
}

/// Ends every session of user `id`; returns how many ended.
#[server(endpoint = "sign_out_everywhere", input = Json)]
pub async fn sign_out_everywhere(id: i64) -> Result<u64, AppError> {
    let (state, admin) = authorize(USERS_SESSIONS).await?;
    crate::backend::user_sessions::sign_out_everywhere(&state.db, &admin, id)
        .await
        .map_err(fail)
}

/// The 100 newest emails; links and temporary passwords only for recipients the
/// caller may act on.
#[server(endpoint = "list_outbox", input = Json)]
pub async fn list_outbox() -> Result<Vec<OutboxEmail>, AppError> {
    let (state, admin) = authorize(USERS_PASSWORDS).await?;
    crate::backend::outbox::outbox(&state.db, &admin, 100)
        .await
        .map_err(fail)
}
