//! Per-admin preferences; for now the users table's hidden columns.

use sea_orm::ConnectionTrait;

use super::sql::Sql;
use super::{now, ServiceError};
use crate::domain::columns::normalize_hidden;
use crate::domain::Column;

const HIDDEN_COLUMNS: &str = "users.hidden_columns";

/// The columns this admin hid, or none.
pub async fn hidden_columns<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
) -> Result<Vec<Column>, ServiceError> {
    let mut q = Sql::new("SELECT value FROM preferences WHERE user_id = ");
    q.bind(admin_id).push(" AND key = ").bind(HIDDEN_COLUMNS);
    let Some(row) = db
        .query_one_raw(q.statement(db.get_database_backend()))
        .await?
    else {
        return Ok(Vec::new());
    };
    let value: serde_json::Value = row.try_get("", "value")?;
    let keys: Vec<String> = serde_json::from_value(value).unwrap_or_default();
    Ok(normalize_hidden(
        keys.iter().filter_map(|k| Column::parse(k)),
    ))
}

/// Remembers the hidden columns for this admin (replacing the previous choice).
pub async fn save_hidden_columns<C: ConnectionTrait>(
    db: &C,
    admin_id: i64,
    hidden: &[Column],
) -> Result<Vec<Column>, ServiceError> {
    let hidden = normalize_hidden(hidden.iter().copied());
    let keys: Vec<&str> = hidden.iter().map(|c| c.key()).collect();
    let mut q = Sql::new("INSERT INTO preferences (user_id, key, value, updated_at) VALUES (");
    q.bind(admin_id)
        .push(", ")
        .bind(HIDDEN_COLUMNS)
        .push(", ")
        .bind(serde_json::json!(keys))
        .push(", ")
        .bind(now())
        .push(") ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at");
    db.execute_raw(q.statement(db.get_database_backend()))
        .await?;
    Ok(hidden)
}
