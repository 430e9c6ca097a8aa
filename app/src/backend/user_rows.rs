//! Rows a user owns (devices, comments, activity entries): deleting one, checked
//! against the actor's authority over the owner and audited.

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::audit::{self, Entry};
use super::authority::Authority;
use super::dialect::Run;
use super::sql::Sql;
use super::users::user_email;
use super::ServiceError;
use crate::domain::AdminInfo;

/// A row of a table keyed by `id` that belongs to a user (`user_id`).
pub struct OwnedRow {
    pub table: &'static str,
    /// Two text columns kept in the audit entry's "before".
    pub columns: [&'static str; 2],
    /// For "… was not found".
    pub what: &'static str,
    pub action: &'static str,
}

/// Deletes row `id` of `row.table` if it belongs to user `user_id`, in one
/// transaction with its audit entry.
pub async fn delete_owned_row(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    user_id: i64,
    id: i64,
    row: OwnedRow,
) -> Result<(), ServiceError> {
    audit::command(db, actor, async |txn| {
        let email = user_email(txn, user_id).await?;
        Authority::load(txn, actor)
            .await?
            .may_act_on_user(txn, user_id)
            .await?;
        let [a, b] = row.columns;
        let mut q = Sql::new(&format!("SELECT {a}, {b} FROM {} WHERE id = ", row.table));
        q.bind(id).push(" AND user_id = ").bind(user_id);
        let found = txn
            .one(&q)
            .await?
            .ok_or_else(|| ServiceError::NotFound(row.what.into()))?;
        let mut before = serde_json::Map::new();
        for column in row.columns {
            before.insert(column.into(), json!(found.try_get::<String>("", column)?));
        }
        let mut d = Sql::new(&format!("DELETE FROM {} WHERE id = ", row.table));
        d.bind(id);
        txn.exec(&d).await?;
        Ok((
            (),
            Entry::on(row.action, user_id, &email).before(before.into()),
        ))
    })
    .await
}
