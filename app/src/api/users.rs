//! The users table, the drawer, tags and the column preference.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::{AppError, Column, TagInfo, UserDetail, UserPage, UserQuery};

/// One page of users for the table's query.
#[server(endpoint = "list_users", input = Json)]
pub async fn list_users(query: UserQuery) -> Result<UserPage, AppError> {
    use crate::domain::permissions::USERS_READ;
    let (state, _) = super::guard::authorize(USERS_READ).await?;
    crate::backend::users::list(&state.db, &query, state.config.exact_count_up_to)
        .await
        .map_err(super::guard::fail)
}

/// How many users match the table's filters, counted exactly: the page itself stops
/// counting at the server's `exact_count_up_to` (1,000 unless set).
#[server(endpoint = "count_users", input = Json)]
pub async fn count_users(query: UserQuery) -> Result<u64, AppError> {
    use crate::domain::permissions::USERS_READ;
    let (state, _) = super::guard::authorize(USERS_READ).await?;
    crate::backend::users::count(&state.db, &query)
        .await
        .map_err(super::guard::fail)
}

/// Everything about one user, for the drawer.
#[server(endpoint = "get_user", input = Json)]
pub async fn get_user(id: i64) -> Result<UserDetail, AppError> {
    use crate::domain::permissions::USERS_READ;
    let (state, _) = super::guard::authorize(USERS_READ).await?;
    crate::backend::users::detail(&state.db, id)
        .await
        .map_err(super::guard::fail)
}

/// All tags with their user counts, for the tag filter.
#[server(endpoint = "list_tags", input = Json)]
pub async fn list_tags() -> Result<Vec<TagInfo>, AppError> {
    use crate::domain::permissions::USERS_READ;
    let (state, _) = super::guard::authorize(USERS_READ).await?;
    crate::backend::tags::list(&state.db)
        .await
        .map_err(super::guard::fail)
}

/// The columns the signed-in admin keeps hidden.
#[server(endpoint = "get_hidden_columns", input = Json)]
pub async fn get_hidden_columns() -> Result<Vec<Column>, AppError> {
    use crate::domain::permissions::ADMIN_ACCESS;
    let (state, admin) = super::guard::authorize(ADMIN_ACCESS).await?;
    crate::backend::prefs::hidden_columns(&state.db, admin.id)
        .await
        .map_err(super::guard::fail)
}

/// The custom field columns the signed-in admin shows, in order.
#[server(endpoint = "get_field_columns", input = Json)]
pub async fn get_field_columns() -> Result<Vec<String>, AppError> {
    use crate::domain::permissions::ADMIN_ACCESS;
    let (state, admin) = super::guard::authorize(ADMIN_ACCESS).await?;
    crate::backend::prefs::field_columns(&state.db, admin.id)
        .await
        .map_err(super::guard::fail)
}

/// Remembers which custom field columns the signed-in admin shows.
#[server(endpoint = "save_field_columns", input = Json)]
pub async fn save_field_columns(keys: Vec<String>) -> Result<Vec<String>, AppError> {
    use crate::domain::permissions::ADMIN_ACCESS;
    let (state, admin) = super::guard::authorize(ADMIN_ACCESS).await?;
    crate::backend::prefs::save_field_columns(&state.db, admin.id, &keys)
        .await
        .map_err(super::guard::fail)
}

/// Remembers which columns the signed-in admin hides; returns the saved set.
#[server(endpoint = "save_hidden_columns", input = Json)]
pub async fn save_hidden_columns(hidden: Vec<Column>) -> Result<Vec<Column>, AppError> {
    use crate::domain::permissions::ADMIN_ACCESS;
    let (state, admin) = super::guard::authorize(ADMIN_ACCESS).await?;
    crate::backend::prefs::save_hidden_columns(&state.db, admin.id, &hidden)
        .await
        .map_err(super::guard::fail)
}
