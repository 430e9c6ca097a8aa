//! API keys for the activity endpoint the admins' own apps call: listed, created
//! (shown once, stored hashed), revoked.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde_json::json;

use super::auth::{new_token, token_hash};
use super::dialect::Run;
use super::entities::api_key;
use super::sql::Sql;
use super::{audit, now, ServiceError};
use crate::domain::activity::ApiKeyInfo;
use crate::domain::AdminInfo;

/// Every API key, newest first.
pub async fn list_keys<C: ConnectionTrait>(db: &C) -> Result<Vec<ApiKeyInfo>, ServiceError> {
    let q = Sql::new(
        "SELECT id, name, key_prefix AS prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id DESC",
    );
    Ok(db.all_as(q).await?)
}

/// Creates a key named `name`; returns the key itself, which is stored only hashed
/// and shown this once.
pub async fn create_key(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    name: &str,
) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::field(
            "name",
            "Name the key (1 to 100 characters), e.g. after the app that uses it.",
        ));
    }
    let key = format!("rk_{}", new_token());
    audit::command(db, actor, async |txn| {
        api_key::ActiveModel {
            name: Set(name.to_string()),
            key_prefix: Set(key[..10].to_string()),
            key_hash: Set(token_hash(&key)),
            created_by: Set(Some(actor.id)),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let entry = audit::Entry::new(
            "api_key.create",
            None,
            None,
            Some(json!({ "name": name, "prefix": &key[..10] })),
        );
        Ok((key, entry))
    })
    .await
}

/// Revokes key `id`: requests with it are refused from then on.
pub async fn revoke_key(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
) -> Result<(), ServiceError> {
    audit::command(db, actor, async |txn| {
        let n = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(now()))
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(txn)
            .await?
            .rows_affected;
        if n == 0 {
            return Err(ServiceError::NotFound("That active API key".into()));
        }
        let entry = audit::Entry::new("api_key.revoke", None, None, Some(json!({ "id": id })));
        Ok(((), entry))
    })
    .await
}

/// The id of the active key `key`, noting its use; `Unauthorized` otherwise.
pub async fn key_id<C: ConnectionTrait>(db: &C, key: &str) -> Result<i64, ServiceError> {
    let mut q =
        Sql::new("SELECT id, last_used_at FROM api_keys WHERE revoked_at IS NULL AND key_hash = ");
    q.bind(token_hash(key));
    let row = db.one(&q).await?.ok_or(ServiceError::Unauthorized)?;
    let id: i64 = row.try_get("", "id")?;
    let last: Option<chrono::DateTime<chrono::Utc>> = row.try_get("", "last_used_at")?;
    let at = now();
    // At most one write a minute per key.
    if last.is_none_or(|l| at - l >= chrono::Duration::minutes(1)) {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Some(at).into())
            .filter(api_key::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(id)
}
