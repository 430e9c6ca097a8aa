//! The audit log: who did what to whom, with the values before and after. Every
//! command writes its entries inside its own transaction, so a rolled-back command
//! leaves no entry and an applied one always has its entry.

use sea_orm::{ConnectionTrait, DbBackend};

use super::sql::Sql;
use super::{now, ServiceError};
use crate::domain::AdminInfo;

/// `INSERT INTO audit_log (...) SELECT <at>, <actor>, <action>, ` — the caller adds
/// the target id, target email, before and after (and a FROM clause if it has one).
pub fn insert_head(actor: &AdminInfo, action: &str) -> Sql {
    let mut s = Sql::new(
        "INSERT INTO audit_log (at, actor_id, actor_email, action, target_user_id, target_email, before, after) SELECT ",
    );
    s.bind(now())
        .push(", ")
        .bind(actor.id)
        .push(", ")
        .bind(actor.email.as_str())
        .push(", ")
        .bind(action)
        .push(", ");
    s
}

/// Writes one audit entry.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &AdminInfo,
    action: &str,
    target: Option<(i64, &str)>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), ServiceError> {
    let backend = db.get_database_backend();
    let (target_id, target_email) = match target {
        Some((id, email)) => (Some(id), email.to_string()),
        None => (None, String::new()),
    };
    let mut s = insert_head(actor, action);
    s.bind(target_id)
        .push(", ")
        .bind(target_email)
        .push(", ")
        .append(&json_value(backend, before))
        .push(", ")
        .append(&json_value(backend, after));
    db.execute_raw(s.statement(backend)).await?;
    Ok(())
}

/// A bound JSON value (or NULL) for a JSON column: JSONB on PostgreSQL, text on SQLite.
pub fn json_value(backend: DbBackend, value: Option<serde_json::Value>) -> Sql {
    let mut s = Sql::default();
    match value {
        None => {
            s.push("NULL");
        }
        Some(v) => {
            s.bind(v.to_string());
            if backend == DbBackend::Postgres {
                s.push("::jsonb");
            }
        }
    }
    s
}

/// The SQL function building a JSON object from key/value pairs.
pub fn json_object_fn(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "jsonb_build_object",
        _ => "json_object",
    }
}

/// One audit entry per user in `ids_sql` (a `SELECT id` subquery), written in one
/// statement: `before_expr` is SQL over the `users` row (evaluated before the change),
/// `after` a constant.
pub async fn record_each<C: ConnectionTrait>(
    db: &C,
    actor: &AdminInfo,
    action: &str,
    ids_sql: &str,
    before_expr: Option<&str>,
    after: Option<serde_json::Value>,
) -> Result<u64, ServiceError> {
    let backend = db.get_database_backend();
    let mut s = insert_head(actor, action);
    s.push(&format!(
        "users.id, users.email, {}, ",
        before_expr.unwrap_or("NULL")
    ))
    .append(&json_value(backend, after))
    .push(&format!(" FROM users WHERE users.id IN ({ids_sql})"));
    Ok(db.execute_raw(s.statement(backend)).await?.rows_affected())
}
