//! Per-admin preferences: the users table's hidden columns and its custom field
//! columns.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::entities::preference;
use super::{now, ServiceError};
use crate::domain::columns::normalize_hidden;
use crate::domain::field_query::parse_columns;
use crate::domain::Column;

const HIDDEN_COLUMNS: &str = "users.hidden_columns";
const FIELD_COLUMNS: &str = "users.field_columns";

/// A list of strings saved under `key` for this admin, or none.
async fn string_list<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
    key: &str,
) -> Result<Vec<String>, ServiceError> {
    let saved = preference::Entity::find_by_id((admin_id, key.to_string()))
        .one(db)
        .await?;
    Ok(saved
        .and_then(|p| serde_json::from_value(p.value).ok())
        .unwrap_or_default())
}

/// The columns this admin hid, or none.
pub async fn hidden_columns<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
) -> Result<Vec<Column>, ServiceError> {
    let keys = string_list(db, admin_id, HIDDEN_COLUMNS).await?;
    Ok(normalize_hidden(
        keys.iter().filter_map(|k| Column::parse(k)),
    ))
}

/// The custom field columns this admin shows, in order.
pub async fn field_columns<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
) -> Result<Vec<String>, ServiceError> {
    let keys = string_list(db, admin_id, FIELD_COLUMNS).await?;
    Ok(parse_columns(&keys.join(",")))
}

/// Remembers the custom field columns shown (replacing the previous choice).
pub async fn save_field_columns<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
    keys: &[String],
) -> Result<Vec<String>, ServiceError> {
    let keys = parse_columns(&keys.join(","));
    save(db, admin_id, FIELD_COLUMNS, serde_json::json!(keys)).await?;
    Ok(keys)
}

/// Remembers the hidden columns for this admin (replacing the previous choice).
pub async fn save_hidden_columns<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
    hidden: &[Column],
) -> Result<Vec<Column>, ServiceError> {
    let hidden = normalize_hidden(hidden.iter().copied());
    let keys: Vec<&str> = hidden.iter().map(|c| c.key()).collect();
    save(db, admin_id, HIDDEN_COLUMNS, serde_json::json!(keys)).await?;
    Ok(hidden)
}

async fn save<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
    key: &str,
    value: serde_json::Value,
) -> Result<(), ServiceError> {
    let row = preference::ActiveModel {
        user_id: Set(admin_id),
        key: Set(key.to_string()),
        value: Set(value),
        updated_at: Set(now()),
    };
    let replace = OnConflict::columns([preference::Column::UserId, preference::Column::Key])
        .update_columns([preference::Column::Value, preference::Column::UpdatedAt])
        .to_owned();
    preference::Entity::insert(row)
        .on_conflict(replace)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
