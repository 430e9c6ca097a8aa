//! The audit log page's data.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::audit::{AuditPage, AuditQuery};
use crate::domain::AppError;

#[cfg(feature = "ssr")]
use super::guard::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::domain::permissions::AUDIT_READ;

/// A page of the audit log, newest first, filtered.
#[server(endpoint = "list_audit", input = Json)]
pub async fn list_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    let (state, _) = authorize(AUDIT_READ).await?;
    crate::backend::audit::page(&state.db, &query)
        .await
        .map_err(fail)
}
