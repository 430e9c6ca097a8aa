//! Groups (listed with member counts, created, renamed, deleted) and the roles a
//! user can be given.

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{Set, Unchanged},
    ConnectionTrait, DatabaseConnection, EntityTrait,
};
use serde_json::json;

use super::dialect::Run;
use super::entities::group;
use super::memberships::{ensure_named, Link};
use super::sql::Sql;
use super::{audit, ServiceError};
use crate::domain::account::clean_names;
use crate::domain::{AdminInfo, GroupInfo, NamedRef, RoleInfo};

/// Every group with its member count, by name.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<GroupInfo>, ServiceError> {
    let q = Sql::new(
        "SELECT groups.id, groups.name, \
         (SELECT count(*) FROM user_groups WHERE user_groups.group_id = groups.id) AS members \
         FROM groups ORDER BY lower(groups.name), groups.id",
    );
    Ok(db
        .all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(GroupInfo {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
                members: r.try_get("", "members")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?)
}

fn clean_name(name: &str) -> Result<String, ServiceError> {
    clean_names(&[name.to_string()])
        .map_err(|e| ServiceError::field("name", e))?
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::field("name", "Enter a name."))
}

async fn group_name<C: ConnectionTrait>(db: &C, id: i64) -> Result<String, ServiceError> {
    let mut q = Sql::new("SELECT name FROM groups WHERE id = ");
    q.bind(id);
    Ok(db
        .one(&q)
        .await?
        .ok_or_else(|| ServiceError::NotFound("That group".into()))?
        .try_get("", "name")?)
}

/// Creates a group; a name that exists (ignoring case) is refused.
pub async fn create(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    name: &str,
) -> Result<NamedRef, ServiceError> {
    let name = clean_name(name)?;
    audit::command(db, actor, async |txn| {
        let mut q = Sql::new("SELECT count(*) AS n FROM groups WHERE lower(name) = ");
        q.bind(name.to_lowercase());
        let exists: i64 = txn
            .one(&q)
            .await?
            .map(|r| r.try_get("", "n"))
            .transpose()?
            .unwrap_or(0);
        if exists > 0 {
            return Err(ServiceError::field(
                "name",
                format!("A group named \"{name}\" exists."),
            ));
        }
        let group = ensure_named(txn, Link::Groups, std::slice::from_ref(&name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("group {name} was not created"))?;
        let entry = audit::Entry::new(
            "group.create",
            None,
            None,
            Some(json!({ "group": group.name })),
        );
        Ok((group, entry))
    })
    .await
}

/// Renames group `id`; another group's name (ignoring case) is refused.
pub async fn rename(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
    name: &str,
) -> Result<(), ServiceError> {
    let name = clean_name(name)?;
    audit::command(db, actor, async |txn| {
        let old = group_name(txn, id).await?;
        group::ActiveModel {
            id: Unchanged(id),
            name: Set(name.clone()),
            ..Default::default()
        }
        .update(txn)
        .await
        .map_err(|e| match ServiceError::unique(e, "") {
            ServiceError::Conflict(_) => {
                ServiceError::field("name", format!("A group named \"{name}\" exists."))
            }
            other => other,
        })?;
        let entry = audit::Entry::new(
            "group.rename",
            None,
            Some(json!({ "group": old })),
            Some(json!({ "group": name })),
        );
        Ok(((), entry))
    })
    .await
}

/// Deletes group `id`; its members simply leave it.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
) -> Result<(), ServiceError> {
    audit::command(db, actor, async |txn| {
        let old = group_name(txn, id).await?;
        let mut members = Sql::new("DELETE FROM user_groups WHERE group_id = ");
        members.bind(id);
        txn.exec(&members).await?;
        group::Entity::delete_by_id(id).exec(txn).await?;
        let entry = audit::Entry::new("group.delete", None, Some(json!({ "group": old })), None);
        Ok(((), entry))
    })
    .await
}

/// Every role, built-in ones first.
pub async fn roles<C: ConnectionTrait>(db: &C) -> Result<Vec<RoleInfo>, ServiceError> {
    let q = Sql::new("SELECT id, name, description FROM roles ORDER BY built_in DESC, id");
    Ok(db
        .all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(RoleInfo {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
                description: r.try_get("", "description")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?)
}
