//! Who may act on whom. Every command that touches another account (its fields,
//! status, role, tags, groups, devices, password, links, sessions, deletion; one user,
//! a bulk selection or an import row) asks an [`Authority`] first, and every role
//! given goes through it too. The rule itself is `domain::permissions::may_act_on`;
//! this module applies it to the roles in the database.
//!
//! The last owner is guarded separately ([`OwnerGuard`]): whatever the command, it may
//! not leave an installation that had an active owner without one.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use super::dialect::Run;
use super::sql::Sql;
use super::ServiceError;
use crate::domain::permissions::{may_act_on, Refusal, OWNER_ROLE};
use crate::domain::AdminInfo;

/// A role as the rule sees it.
#[derive(Clone, Debug)]
pub struct RoleRights {
    pub name: String,
    pub permissions: Vec<String>,
    /// `None` when the actor may act on holders of this role (and give it).
    pub refusal: Option<Refusal>,
}

/// The rule for one actor, with every role's verdict worked out once per command.
#[derive(Clone, Debug)]
pub struct Authority {
    actor_id: i64,
    roles: HashMap<i64, RoleRights>,
}

impl Authority {
    /// Reads every role and its permissions (a handful of rows) and judges each
    /// against `actor`'s permissions.
    pub async fn load<C: ConnectionTrait>(db: &C, actor: &AdminInfo) -> Result<Self, ServiceError> {
        let rows = db
            .all(Sql::new(
                "SELECT r.id, r.name, rp.permission FROM roles r \
                     LEFT JOIN role_permissions rp ON rp.role_id = r.id ORDER BY r.id",
            ))
            .await?;
        let mut roles: HashMap<i64, RoleRights> = HashMap::new();
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let permission: Option<String> = row.try_get("", "permission")?;
            let entry = roles.entry(id).or_insert(RoleRights {
                name: row.try_get("", "name")?,
                permissions: Vec::new(),
                refusal: None,
            });
            entry.permissions.extend(permission);
        }
        for role in roles.values_mut() {
            role.refusal = may_act_on(&actor.permissions, &role.permissions).err();
        }
        Ok(Authority {
            actor_id: actor.id,
            roles,
        })
    }

    /// The role with this id, if it exists.
    pub fn role(&self, role_id: i64) -> Option<&RoleRights> {
        self.roles.get(&role_id)
    }

    /// Why the actor may not act on holders of `role_id`, if they may not. An unknown
    /// role is refused as if it granted everything.
    pub fn refusal(&self, role_id: i64) -> Option<Refusal> {
        match self.roles.get(&role_id) {
            Some(role) => role.refusal.clone(),
            None => may_act_on::<_, &str>(&[] as &[&str], &crate::domain::permissions::ALL).err(),
        }
    }

    /// The roles whose holders the actor may not act on.
    pub fn refused_role_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .roles
            .iter()
            .filter(|(_, r)| r.refusal.is_some())
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The name of `role_id` if the actor may give it (or take it away); otherwise a
    /// field error on `field`.
    pub fn may_give(&self, role_id: i64, field: &str) -> Result<String, ServiceError> {
        let role = self
            .roles
            .get(&role_id)
            .ok_or_else(|| ServiceError::field(field, "That role does not exist."))?;
        match &role.refusal {
            None => Ok(role.name.clone()),
            Some(refusal) => Err(ServiceError::field(field, give_sentence(refusal))),
        }
    }

    /// `Ok` if the actor may act on user `user_id` (themselves included: the rule is
    /// about other accounts; commands that must not touch the actor say so
    /// themselves). `NotFound` for a missing user, `Forbidden` naming what the actor
    /// lacks otherwise.
    pub async fn may_act_on_user<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: i64,
    ) -> Result<(), ServiceError> {
        let mut q = Sql::new("SELECT role_id FROM users WHERE id = ");
        q.bind(user_id);
        let role_id: i64 = db
            .one(&q)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("User {user_id}")))?
            .try_get("", "role_id")?;
        self.check_role_of(user_id, role_id)
    }

    /// The same verdict for a user whose role the caller has already read.
    pub fn check_role_of(&self, user_id: i64, role_id: i64) -> Result<(), ServiceError> {
        if user_id == self.actor_id {
            return Ok(());
        }
        match self.refusal(role_id) {
            None => Ok(()),
            Some(refusal) => Err(ServiceError::Forbidden(refusal.permissions())),
        }
    }

    /// `Ok` if the actor may act on every user `ids_sql` (a `SELECT id ...`) yields,
    /// themselves excepted; otherwise `Forbidden` naming what they lack and how many
    /// selected users are beyond them.
    pub async fn may_act_on_selection<C: ConnectionTrait>(
        &self,
        db: &C,
        ids_sql: &str,
    ) -> Result<(), ServiceError> {
        let refused = self.refused_role_ids();
        if refused.is_empty() {
            return Ok(());
        }
        let mut q = Sql::new(&format!(
            "SELECT role_id, count(*) AS n FROM users WHERE id IN ({ids_sql}) AND id <> "
        ));
        q.bind(self.actor_id)
            .push(" AND role_id IN (")
            .bind_list(refused)
            .push(") GROUP BY role_id ORDER BY role_id");
        let rows = db.all(&q).await?;
        let mut total = 0i64;
        let mut missing: Vec<String> = Vec::new();
        for row in &rows {
            let role_id: i64 = row.try_get("", "role_id")?;
            total += super::users::read_count(row)? as i64;
            if let Some(refusal) = self.refusal(role_id) {
                for m in refusal.missing {
                    if !missing.contains(&m) {
                        missing.push(m);
                    }
                }
            }
        }
        if total == 0 {
            return Ok(());
        }
        Err(ServiceError::Forbidden(format!(
            "{} (the selection includes {total} user{} whose role is beyond yours)",
            missing.join(", "),
            if total == 1 { "" } else { "s" }
        )))
    }
}

/// The sentence for a role the actor may not give (or take away).
pub fn give_sentence(refusal: &Refusal) -> String {
    if refusal.admin_target && refusal.missing == [crate::domain::permissions::ROLES_MANAGE] {
        "Only admins who manage roles can give or take away a role with admin access.".into()
    } else {
        format!(
            "This role grants permissions yours lacks ({}).",
            refusal.permissions()
        )
    }
}

/// Counts the active owners when a command starts, and refuses at its end if it
/// leaves none (the last owner cannot be demoted, banned or deleted).
pub struct OwnerGuard {
    before: i64,
}

impl OwnerGuard {
    pub async fn start<C: ConnectionTrait>(db: &C) -> Result<Self, ServiceError> {
        Ok(OwnerGuard {
            before: active_owners(db).await?,
        })
    }

    /// Call before committing.
    ///
    /// Each command waits here for any other to commit, then counts: two admins
    /// demoting the last two owners at once (on PostgreSQL, where each would count the
    /// other's owner as still active) cannot leave none, also when a promotion
    /// committed meanwhile hides the drop from a count taken before the wait. The lock
    /// is held from here to the commit only. SQLite runs one writing command at a time.
    pub async fn check<C: ConnectionTrait>(&self, db: &C) -> Result<(), ServiceError> {
        if self.before == 0 {
            return Ok(());
        }
        if let Some(wait) = db.dialect().serialize_owner_changes() {
            db.exec(Sql::new(wait)).await?;
        }
        if active_owners(db).await? == 0 {
            return Err(ServiceError::Conflict(
                "The last owner cannot be demoted, banned or deleted: make another user an owner first."
                    .into(),
            ));
        }
        Ok(())
    }
}

async fn active_owners<C: ConnectionTrait>(db: &C) -> Result<i64, ServiceError> {
    let mut q = Sql::new(
        "SELECT count(*) AS n FROM users u JOIN roles r ON r.id = u.role_id WHERE r.name = ",
    );
    q.bind(OWNER_ROLE).push(" AND u.status = 'active'");
    let row = db
        .one(&q)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count row"))?;
    Ok(super::users::read_count(&row)? as i64)
}
