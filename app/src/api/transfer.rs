//! Imports and exports: the jobs list, one job with its report, applying a previewed
//! job, and the progress of a running export. Uploads, downloads and templates are
//! plain HTTP routes in the server (`server/src/transfer.rs`).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::transfer::{ImportJob, Progress};
use crate::domain::AppError;

#[cfg(feature = "ssr")]
use super::guard::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::domain::permissions::{USERS_EXPORT, USERS_IMPORT};

/// The latest 100 imports, newest first (counts only).
#[server(endpoint = "list_imports", input = Json)]
pub async fn list_imports() -> Result<Vec<ImportJob>, AppError> {
    let (state, _) = authorize(USERS_IMPORT).await?;
    crate::backend::transfer::jobs::list(&state.db, &state.jobs, 100)
        .await
        .map_err(fail)
}

/// One import with its full report and, while it runs, its progress.
#[server(endpoint = "get_import", input = Json)]
pub async fn get_import(id: i64) -> Result<ImportJob, AppError> {
    let (state, _) = authorize(USERS_IMPORT).await?;
    crate::backend::transfer::jobs::get(&state.db, &state.jobs, id)
        .await
        .map_err(fail)
}

/// Applies a previewed import in the background: all or nothing, or skipping the
/// rejected rows.
#[server(endpoint = "apply_import", input = Json)]
pub async fn apply_import(id: i64, skip_invalid: bool) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_IMPORT).await?;
    crate::backend::transfer::jobs::apply(&state, &admin, id, skip_invalid)
        .await
        .map_err(fail)
}

/// How far the export started with `token` is (none when it is unknown or done).
#[server(endpoint = "export_progress", input = Json)]
pub async fn export_progress(token: String) -> Result<Option<Progress>, AppError> {
    let (state, _) = authorize(USERS_EXPORT).await?;
    Ok(state.jobs.get(&format!("export:{token}")))
}
