//! The Roles page: every role with its permissions, and custom roles made, changed
//! and removed by admins who manage roles.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::permissions::{RoleDetail, RoleForm};
use crate::domain::AppError;

#[cfg(feature = "ssr")]
use super::guard::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::domain::permissions::ROLES_MANAGE;

/// Every role with its permissions and user count, built-in first.
#[server(endpoint = "list_role_details", input = Json)]
pub async fn list_role_details() -> Result<Vec<RoleDetail>, AppError> {
    let (state, _) = authorize(ROLES_MANAGE).await?;
    crate::backend::roles::details(&state.db)
        .await
        .map_err(fail)
}

#[server(endpoint = "create_role", input = Json)]
pub async fn create_role(form: RoleForm) -> Result<RoleDetail, AppError> {
    let (state, admin) = authorize(ROLES_MANAGE).await?;
    crate::backend::roles::create(&state.db, &admin, &form)
        .await
        .map_err(fail)
}

/// Changes a custom role; its users have the new permissions from their next call.
#[server(endpoint = "update_role", input = Json)]
pub async fn update_role(id: i64, form: RoleForm) -> Result<RoleDetail, AppError> {
    let (state, admin) = authorize(ROLES_MANAGE).await?;
    crate::backend::roles::update(&state.db, &admin, id, &form)
        .await
        .map_err(fail)
}

/// Removes a custom role that no user has.
#[server(endpoint = "delete_role", input = Json)]
pub async fn delete_role(id: i64) -> Result<(), AppError> {
    let (state, admin) = authorize(ROLES_MANAGE).await?;
    crate::backend::roles::delete(&state.db, &admin, id)
        .await
        .map_err(fail)
}
