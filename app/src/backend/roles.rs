//! Built-in roles and permission look-ups.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use super::sql::Sql;
use crate::domain::permissions::BUILT_IN_ROLES;

/// Creates any missing built-in role and gives each built-in role exactly the
/// permissions the code defines. Safe to run at every start.
pub async fn ensure_built_in(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    for (name, description, permissions) in BUILT_IN_ROLES {
        let mut insert =
            Sql::new("INSERT INTO roles (name, description, built_in, created_at) VALUES (");
        insert
            .bind(name)
            .push(", ")
            .bind(description)
            .push(", ")
            .bind(true)
            .push(", ")
            .bind(super::now())
            .push(") ON CONFLICT (name) DO NOTHING");
        txn.execute_raw(insert.statement(backend)).await?;
        let id = role_id(&txn, name)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(name.to_string()))?;
        let mut clear = Sql::new("DELETE FROM role_permissions WHERE role_id = ");
        clear.bind(id);
        txn.execute_raw(clear.statement(backend)).await?;
        for permission in permissions.iter() {
            let mut grant = Sql::new("INSERT INTO role_permissions (role_id, permission) VALUES (");
            grant.bind(id).push(", ").bind(*permission).push(")");
            txn.execute_raw(grant.statement(backend)).await?;
        }
    }
    txn.commit().await
}

pub async fn role_id<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<i64>, DbErr> {
    let mut q = Sql::new("SELECT id FROM roles WHERE name = ");
    q.bind(name);
    match db
        .query_one_raw(q.statement(db.get_database_backend()))
        .await?
    {
        Some(row) => Ok(Some(row.try_get::<i64>("", "id")?)),
        None => Ok(None),
    }
}

/// The permissions of a role, sorted.
pub async fn permissions<C: ConnectionTrait>(db: &C, role_id: i64) -> Result<Vec<String>, DbErr> {
    let mut q = Sql::new("SELECT permission FROM role_permissions WHERE role_id = ");
    q.bind(role_id).push(" ORDER BY permission");
    db.query_all_raw(q.statement(db.get_database_backend()))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "permission"))
        .collect()
}
