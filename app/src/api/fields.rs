//! Custom profile fields: list them, define one, change one, archive or restore it,
//! and put them in order.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::fields::{FieldDef, FieldForm};
use crate::domain::AppError;

#[cfg(feature = "ssr")]
use super::guard::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::domain::permissions::{FIELDS_MANAGE, USERS_READ};

/// The fields in order (archived ones too when `archived`).
#[server(endpoint = "list_fields", input = Json)]
pub async fn list_fields(archived: bool) -> Result<Vec<FieldDef>, AppError> {
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::fields::list(&state.db, archived)
        .await
        .map_err(fail)
}

#[server(endpoint = "create_field", input = Json)]
pub async fn create_field(form: FieldForm) -> Result<FieldDef, AppError> {
    let (state, admin) = authorize(FIELDS_MANAGE).await?;
    crate::backend::fields::create(&state.db, &admin, &form)
        .await
        .map_err(fail)
}

/// Changes a field; a type or choices change that some values would not survive
/// is refused with how many.
#[server(endpoint = "update_field", input = Json)]
pub async fn update_field(id: i64, form: FieldForm) -> Result<FieldDef, AppError> {
    let (state, admin) = authorize(FIELDS_MANAGE).await?;
    crate::backend::fields::update(&state.db, &admin, id, &form)
        .await
        .map_err(fail)
}

#[server(endpoint = "archive_field", input = Json)]
pub async fn archive_field(id: i64, archived: bool) -> Result<FieldDef, AppError> {
    let (state, admin) = authorize(FIELDS_MANAGE).await?;
    crate::backend::fields::set_archived(&state.db, &admin, id, archived)
        .await
        .map_err(fail)
}

#[server(endpoint = "reorder_fields", input = Json)]
pub async fn reorder_fields(ids: Vec<i64>) -> Result<Vec<FieldDef>, AppError> {
    let (state, admin) = authorize(FIELDS_MANAGE).await?;
    crate::backend::fields::reorder(&state.db, &admin, &ids)
        .await
        .map_err(fail)
}
