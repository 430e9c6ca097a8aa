//! Roles: the built-in ones (kept as the code defines them), custom roles made on the
//! Roles page, and permission look-ups.

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{Set, Unchanged},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
};

use super::dialect::Run;
use super::entities::{role, role_permission};
use super::sql::Sql;
use super::{audit, ServiceError};
use crate::domain::permissions::{check_role, may_author, RoleDetail, RoleForm, BUILT_IN_ROLES};
use crate::domain::AdminInfo;

/// Creates any missing built-in role and gives each built-in role exactly the
/// permissions the code defines. Safe to run at every start.
pub async fn ensure_built_in(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = crate::backend::db::begin_write(db).await?;
    for (name, description, permissions) in BUILT_IN_ROLES {
        let row = role::ActiveModel {
            name: Set(name.to_string()),
            description: Set(description.to_string()),
            built_in: Set(true),
            created_at: Set(super::now()),
            ..Default::default()
        };
        role::Entity::insert(row)
            .on_conflict_do_nothing_on([role::Column::Name])
            .exec(&txn)
            .await?;
        let id = role_id(&txn, name)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(name.to_string()))?;
        let list: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
        grant(&txn, id, &list).await?;
    }
    txn.commit().await
}

pub async fn role_id<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<i64>, DbErr> {
    let mut q = Sql::new("SELECT id FROM roles WHERE name = ");
    q.bind(name);
    match db.one(&q).await? {
        Some(row) => Ok(Some(row.try_get::<i64>("", "id")?)),
        None => Ok(None),
    }
}

/// The permissions of a role, sorted.
pub async fn permissions<C: ConnectionTrait>(db: &C, role_id: i64) -> Result<Vec<String>, DbErr> {
    let mut q = Sql::new("SELECT permission FROM role_permissions WHERE role_id = ");
    q.bind(role_id).push(" ORDER BY permission");
    db.all(&q)
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "permission"))
        .collect()
}

/// Every role with its permissions and how many users have it: built-in first.
pub async fn details<C: ConnectionTrait>(db: &C) -> Result<Vec<RoleDetail>, ServiceError> {
    let q = Sql::new(
        "SELECT r.id, r.name, r.description, r.built_in, \
         (SELECT COUNT(*) FROM users u WHERE u.role_id = r.id) AS users \
         FROM roles r ORDER BY r.built_in DESC, r.id",
    );
    let mut roles = Vec::new();
    for r in db.all(&q).await? {
        let id: i64 = r.try_get("", "id")?;
        roles.push(RoleDetail {
            id,
            name: r.try_get("", "name")?,
            description: r.try_get("", "description")?,
            built_in: r.try_get("", "built_in")?,
            permissions: permissions(db, id).await?,
            users: r.try_get("", "users")?,
        });
    }
    Ok(roles)
}

async fn detail<C: ConnectionTrait>(db: &C, id: i64) -> Result<RoleDetail, ServiceError> {
    details(db)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ServiceError::NotFound("That role".into()))
}

fn snapshot(role: &RoleDetail) -> serde_json::Value {
    serde_json::json!({
        "name": role.name,
        "description": role.description,
        "permissions": role.permissions,
    })
}

async fn name_taken<C: ConnectionTrait>(
    db: &C,
    name: &str,
    except: Option<i64>,
) -> Result<(), ServiceError> {
    let mut q = Sql::new("SELECT id FROM roles WHERE name = ");
    q.bind(name);
    if let Some(id) = except {
        q.push(" AND id <> ").bind(id);
    }
    if db.one(&q).await?.is_some() {
        return Err(ServiceError::field(
            "name",
            format!("A role named {name} already exists."),
        ));
    }
    Ok(())
}

async fn grant<C: ConnectionTrait>(db: &C, id: i64, list: &[String]) -> Result<(), DbErr> {
    role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(id))
        .exec(db)
        .await?;
    if list.is_empty() {
        return Ok(());
    }
    role_permission::Entity::insert_many(list.iter().map(|permission| {
        role_permission::ActiveModel {
            role_id: Set(id),
            permission: Set(permission.clone()),
        }
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A role is made or changed only to hold permissions its author holds.
fn within_author(actor: &AdminInfo, permissions: &[String]) -> Result<(), ServiceError> {
    may_author(&actor.permissions, permissions).map_err(|missing| {
        ServiceError::field(
            "permissions",
            format!(
                "You can only give a role permissions you hold yourself; you lack {}.",
                missing.join(", ")
            ),
        )
    })
}

/// Nobody changes or deletes a role that grants more than they hold.
fn beyond_author(actor: &AdminInfo, role: &RoleDetail) -> Result<(), ServiceError> {
    may_author(&actor.permissions, &role.permissions)
        .map_err(|missing| ServiceError::Forbidden(missing.join(", ")))
}

/// Makes a custom role.
pub async fn create(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    form: &RoleForm,
) -> Result<RoleDetail, ServiceError> {
    let form = check_role(form).map_err(ServiceError::Validation)?;
    within_author(actor, &form.permissions)?;
    audit::command(db, actor, async |txn| {
        name_taken(txn, &form.name, None).await?;
        let id = role::ActiveModel {
            name: Set(form.name.clone()),
            description: Set(form.description.clone()),
            built_in: Set(false),
            created_at: Set(super::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| {
            ServiceError::unique(
                e,
                "Another admin just made a role with this name. Choose another.",
            )
        })?
        .id;
        grant(txn, id, &form.permissions).await?;
        let role = detail(txn, id).await?;
        let entry = audit::Entry::new("role.create", None, None, Some(snapshot(&role)));
        Ok((role, entry))
    })
    .await
}

/// Changes a custom role's name, description and permissions; they apply to its users
/// from their next call.
pub async fn update(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
    form: &RoleForm,
) -> Result<RoleDetail, ServiceError> {
    let form = check_role(form).map_err(ServiceError::Validation)?;
    within_author(actor, &form.permissions)?;
    audit::command(db, actor, async |txn| {
        let before = detail(txn, id).await?;
        if before.built_in {
            return Err(ServiceError::Conflict(
                "Built-in roles cannot be changed: make a custom role instead.".into(),
            ));
        }
        beyond_author(actor, &before)?;
        name_taken(txn, &form.name, Some(id)).await?;
        role::ActiveModel {
            id: Unchanged(id),
            name: Set(form.name.clone()),
            description: Set(form.description.clone()),
            ..Default::default()
        }
        .update(txn)
        .await?;
        grant(txn, id, &form.permissions).await?;
        let after = detail(txn, id).await?;
        let entry = audit::Entry::new(
            "role.update",
            None,
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        );
        Ok((after, entry))
    })
    .await
}

/// Removes a custom role nobody has.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
) -> Result<(), ServiceError> {
    audit::command(db, actor, async |txn| {
        let role = detail(txn, id).await?;
        if role.built_in {
            return Err(ServiceError::Conflict(
                "Built-in roles cannot be deleted.".into(),
            ));
        }
        beyond_author(actor, &role)?;
        if role.users > 0 {
            return Err(ServiceError::Conflict(format!(
                "{} {} the role {}: give them another role first.",
                role.users,
                if role.users == 1 {
                    "user has"
                } else {
                    "users have"
                },
                role.name
            )));
        }
        role_permission::Entity::delete_many()
            .filter(role_permission::Column::RoleId.eq(id))
            .exec(txn)
            .await?;
        role::Entity::delete_by_id(id).exec(txn).await?;
        let entry = audit::Entry::new("role.delete", None, Some(snapshot(&role)), None);
        Ok(((), entry))
    })
    .await
}
