//! Creating, editing, tagging, grouping, banning and deleting users; groups, roles,
//! devices and comments. Each function authorizes, calls one service and maps errors.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::account::{NewUserForm, UserEditForm};
use crate::domain::{
    AppError, BulkAction, BulkJob, BulkResult, CommentInfo, CreatedUser, GroupInfo, NamedRef,
    RoleInfo, Selection, Status, StatusUndo,
};

#[cfg(feature = "ssr")]
use super::guard::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::domain::permissions::{ADMIN_ACCESS, USERS_DELETE, USERS_READ, USERS_WRITE};

/// Every role, for the role pickers.
#[server(endpoint = "list_roles", input = Json)]
pub async fn list_roles() -> Result<Vec<RoleInfo>, AppError> {
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::groups::roles(&state.db).await.map_err(fail)
}

/// Every group with its member count.
#[server(endpoint = "list_groups", input = Json)]
pub async fn list_groups() -> Result<Vec<GroupInfo>, AppError> {
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::groups::list(&state.db).await.map_err(fail)
}

/// Creates one to five users, all or none. Field errors are keyed `"<n>.<field>"`.
#[server(endpoint = "create_users", input = Json)]
pub async fn create_users(users: Vec<NewUserForm>) -> Result<Vec<CreatedUser>, AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::user_writes::create_users(&state.db, &state.config, &admin, &users)
        .await
        .map_err(fail)
}

/// Saves the drawer's edit; refused with `Conflict` if the user changed meanwhile.
#[server(endpoint = "update_user", input = Json)]
pub async fn update_user(id: i64, form: UserEditForm) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::user_writes::update_user(&state.db, &admin, id, form)
        .await
        .map_err(fail)
}

/// Gives a user exactly these tags (missing ones are created).
#[server(endpoint = "set_user_tags", input = Json)]
pub async fn set_user_tags(id: i64, names: Vec<String>) -> Result<Vec<NamedRef>, AppError> {
    use crate::backend::memberships::set_links;
    use crate::backend::memberships::Link;
    let (state, admin) = authorize(USERS_WRITE).await?;
    set_links(&state.db, &admin, Link::Tags, id, &names)
        .await
        .map_err(fail)
}

/// Puts a user in exactly these groups (missing ones are created).
#[server(endpoint = "set_user_groups", input = Json)]
pub async fn set_user_groups(id: i64, names: Vec<String>) -> Result<Vec<NamedRef>, AppError> {
    use crate::backend::memberships::set_links;
    use crate::backend::memberships::Link;
    let (state, admin) = authorize(USERS_WRITE).await?;
    set_links(&state.db, &admin, Link::Groups, id, &names)
        .await
        .map_err(fail)
}

/// Removes one of a user's devices.
#[server(endpoint = "remove_device", input = Json)]
pub async fn remove_device(user_id: i64, device_id: i64) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::devices::remove_device(&state.db, &admin, user_id, device_id)
        .await
        .map_err(fail)
}

/// Admin comments on a user, newest first.
#[server(endpoint = "list_comments", input = Json)]
pub async fn list_comments(user_id: i64) -> Result<Vec<CommentInfo>, AppError> {
    let (state, _) = authorize(USERS_READ).await?;
    crate::backend::comments::comments(&state.db, user_id)
        .await
        .map_err(fail)
}

#[server(endpoint = "add_comment", input = Json)]
pub async fn add_comment(user_id: i64, body: String) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::comments::add_comment(&state.db, &admin, user_id, &body)
        .await
        .map_err(fail)
}

/// Deletes one of the signed-in admin's own comments.
#[server(endpoint = "delete_comment", input = Json)]
pub async fn delete_comment(id: i64) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::comments::delete_comment(&state.db, &admin, id)
        .await
        .map_err(fail)
}

/// Applies a bulk action to checked rows or to every user matching the filters.
/// Checked rows are changed at once; "all matching" runs as a background job that
/// answers here when it is quick, else with its id (`BulkResult::job`) to follow with
/// [`get_bulk_job`].
#[server(endpoint = "bulk_users", input = Json)]
pub async fn bulk_users(selection: Selection, action: BulkAction) -> Result<BulkResult, AppError> {
    let (state, admin) = authorize(crate::backend::bulk::permission(&action)).await?;
    match selection {
        Selection::Matching(query) => {
            crate::backend::bulk_jobs::start(&state, &admin, query, action).await
        }
        ids => crate::backend::bulk::apply(&state.db, &admin, &ids, &action).await,
    }
    .map_err(fail)
}

/// A background bulk action's progress and outcome. Only the admin who started it
/// sees it (with the rights it needed then), so any admin session may ask.
#[server(endpoint = "get_bulk_job", input = Json)]
pub async fn get_bulk_job(id: i64) -> Result<BulkJob, AppError> {
    let (state, admin) = authorize(ADMIN_ACCESS).await?;
    crate::backend::bulk_jobs::get(&state, &admin, id)
        .await
        .map_err(fail)
}

/// Sets one user's status (the row's status menu).
/// Sets one user's status; returns the change to pass to `undo_status_change`.
#[server(endpoint = "set_user_status", input = Json)]
pub async fn set_user_status(id: i64, status: Status) -> Result<i64, AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    let result = single(
        &state.db,
        &admin,
        id,
        BulkAction::SetStatus(status),
        "status",
    )
    .await?;
    result
        .status_change_id
        .ok_or_else(|| fail(anyhow::anyhow!("a status change returned no id").into()))
}

/// Sets the users of a recent status change back to their previous status (those
/// nobody changed since).
#[server(endpoint = "undo_status_change", input = Json)]
pub async fn undo_status_change(change_id: i64) -> Result<StatusUndo, AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::status_undo::undo(&state.db, &state.config, &admin, change_id)
        .await
        .map_err(fail)
}

/// Deletes one user; returns the deletion to pass to `undo_delete`.
#[server(endpoint = "delete_user", input = Json)]
pub async fn delete_user(id: i64) -> Result<i64, AppError> {
    let (state, admin) = authorize(USERS_DELETE).await?;
    let result = single(&state.db, &admin, id, BulkAction::Delete, "delete").await?;
    result
        .deletion_id
        .ok_or_else(|| fail(anyhow::anyhow!("delete returned no deletion id").into()))
}

/// Brings back the users of a recent delete.
#[server(endpoint = "undo_delete", input = Json)]
pub async fn undo_delete(deletion_id: i64) -> Result<u64, AppError> {
    let (state, admin) = authorize(USERS_DELETE).await?;
    crate::backend::bulk::undo_delete(&state.db, &state.config, &admin, deletion_id)
        .await
        .map_err(fail)
}

#[server(endpoint = "create_group", input = Json)]
pub async fn create_group(name: String) -> Result<NamedRef, AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::groups::create(&state.db, &admin, &name)
        .await
        .map_err(fail)
}

#[server(endpoint = "rename_group", input = Json)]
pub async fn rename_group(id: i64, name: String) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::groups::rename(&state.db, &admin, id, &name)
        .await
        .map_err(fail)
}

#[server(endpoint = "delete_group", input = Json)]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    let (state, admin) = authorize(USERS_WRITE).await?;
    crate::backend::groups::delete(&state.db, &admin, id)
        .await
        .map_err(fail)
}

/// A bulk action on one user, with single-user errors (not found, not yourself).
#[cfg(feature = "ssr")]
async fn single(
    db: &sea_orm::DatabaseConnection,
    admin: &crate::domain::AdminInfo,
    id: i64,
    action: BulkAction,
    field: &str,
) -> Result<BulkResult, AppError> {
    use crate::backend::ServiceError;
    let result = crate::backend::bulk::apply(db, admin, &Selection::Ids(vec![id]), &action)
        .await
        .map_err(fail)?;
    if result.skipped_self {
        let what = if action == BulkAction::Delete {
            "delete your own account"
        } else {
            "change your own status"
        };
        return Err(fail(ServiceError::field(
            field,
            format!("You cannot {what}."),
        )));
    }
    if result.affected == 0 {
        return Err(fail(ServiceError::NotFound(format!("User {id}"))));
    }
    Ok(result)
}
