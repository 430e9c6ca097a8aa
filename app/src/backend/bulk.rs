//! Commands on a selection of users (checked rows, or every user the filters match):
//! status, tags, groups, role and delete. The selection is resolved once into a
//! temporary table inside the command's transaction, so a million matching users
//! cost a few set-based statements, each audited per user.
//!
//! Deletes are undoable: the users' rows and everything that hangs off them move to
//! trash tables (`deletions`, `trash_*`) and come back on undo; `purge_expired`
//! removes trash older than the undo window for good.

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use serde_json::json;

use super::authority::{Authority, OwnerGuard};
use super::dialect::Run;
use super::memberships::{ensure_named, Link};
use super::sql::Sql;
use super::user_writes::user_snapshot_expr;
use super::users::{matching_ids_sql, resolve};
use super::{audit, now, Config, ServiceError};
use crate::domain::account::clean_names;
use crate::domain::permissions::{USERS_DELETE, USERS_WRITE};
use crate::domain::{AdminInfo, BulkAction, BulkResult, Selection, Status};

/// The temporary table holding a command's selected ids.
const SELECTED: &str = "SELECT id FROM bulk_selection";

/// Most ids a `Selection::Ids` may name (the UI's pages hold at most 100 rows; a
/// larger selection is "all matching").
pub const MAX_IDS: usize = 10_000;

/// The permission a bulk action needs.
pub fn permission(action: &BulkAction) -> &'static str {
    match action {
        BulkAction::Delete => USERS_DELETE,
        _ => USERS_WRITE,
    }
}

/// Fills `bulk_selection` with the selected users that exist, minus the actor for
/// actions that could lock them out. Returns (selected, whether the actor was left out).
async fn select(
    txn: &DatabaseTransaction,
    actor: &AdminInfo,
    selection: &Selection,
    spare_actor: bool,
) -> Result<(u64, bool), ServiceError> {
    let dialect = txn.dialect();
    let create = dialect.create_temp_table(
        "bulk_selection",
        &format!("id {} PRIMARY KEY", dialect.id_type()),
    );
    txn.execute_unprepared(&create).await?;
    let mut fill = Sql::new("INSERT INTO bulk_selection (id) ");
    match selection {
        Selection::Ids(ids) => {
            if ids.is_empty() {
                return Err(ServiceError::field(
                    "selection",
                    "Select at least one user.",
                ));
            }
            if ids.len() > MAX_IDS {
                return Err(ServiceError::field(
                    "selection",
                    format!("Select at most {MAX_IDS} users by row; use \"select all matching\" for more."),
                ));
            }
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            fill.push("SELECT id FROM users WHERE id IN (")
                .bind_list(ids)
                .push(")");
        }
        Selection::Matching(query) => {
            let filters = resolve(txn, query).await?;
            fill.append(&matching_ids_sql(dialect, query, &filters));
        }
    }
    let mut selected = txn.exec(&fill).await?.rows_affected();
    let mut skipped_self = false;
    if spare_actor {
        let mut d = Sql::new("DELETE FROM bulk_selection WHERE id = ");
        d.bind(actor.id);
        if txn.exec(&d).await?.rows_affected() > 0 {
            skipped_self = true;
            selected -= 1;
        }
    }
    Ok((selected, skipped_self))
}

async fn finish(txn: DatabaseTransaction) -> Result<(), ServiceError> {
    if let Some(drop) = txn.dialect().drop_temp_table("bulk_selection") {
        txn.execute_unprepared(&drop).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Applies `action` to every selected user in one transaction.
pub async fn apply(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    selection: &Selection,
    action: &BulkAction,
) -> Result<BulkResult, ServiceError> {
    let spare_actor = matches!(
        action,
        BulkAction::SetStatus(_) | BulkAction::SetRole(_) | BulkAction::Delete
    );
    // Validate names before any write.
    let name = match action {
        BulkAction::AddTag(n)
        | BulkAction::RemoveTag(n)
        | BulkAction::AddToGroup(n)
        | BulkAction::RemoveFromGroup(n) => {
            let field = if matches!(action, BulkAction::AddTag(_) | BulkAction::RemoveTag(_)) {
                "tag"
            } else {
                "group"
            };
            let cleaned =
                clean_names(std::slice::from_ref(n)).map_err(|e| ServiceError::field(field, e))?;
            Some(
                cleaned
                    .into_iter()
                    .next()
                    .ok_or_else(|| ServiceError::field(field, format!("Enter a {field} name.")))?,
            )
        }
        _ => None,
    };
    let txn = crate::backend::db::begin_write(db).await?;
    let authority = Authority::load(&txn, actor).await?;
    if let BulkAction::SetRole(role_id) = action {
        authority.may_give(*role_id, "role")?;
    }
    let (affected, skipped_self) = select(&txn, actor, selection, spare_actor).await?;
    if affected == 0 {
        finish(txn).await?;
        return Ok(BulkResult {
            affected: 0,
            deletion_id: None,
            skipped_self,
        });
    }
    let dialect = txn.dialect();
    // Every selected user must be within the actor's rights, whatever the action.
    authority.may_act_on_selection(&txn, SELECTED).await?;
    let owners = OwnerGuard::start(&txn).await?;
    let obj = dialect.json_object_fn();
    let at = now();
    let mut deletion_id = None;
    match action {
        BulkAction::SetStatus(status) => {
            audit::record_each(
                &txn,
                actor,
                action.audit_name(),
                SELECTED,
                Some(&format!("{obj}('status', users.status)")),
                Some(json!({ "status": status.as_str() })),
            )
            .await?;
            let mut u = Sql::new("UPDATE users SET status = ");
            u.bind(status.as_str())
                .push(", updated_at = ")
                .bind(at)
                .push(&format!(", version = version + 1 WHERE id IN ({SELECTED})"));
            txn.exec(&u).await?;
            if *status == Status::Banned {
                // A ban takes effect at once: the users' sessions end.
                txn.execute_unprepared(&format!(
                    "DELETE FROM sessions WHERE user_id IN ({SELECTED})"
                ))
                .await?;
            }
        }
        BulkAction::SetRole(role_id) => {
            audit::record_each(
                &txn,
                actor,
                action.audit_name(),
                SELECTED,
                Some(&format!("{obj}('role_id', users.role_id)")),
                Some(json!({ "role_id": role_id })),
            )
            .await?;
            let mut u = Sql::new("UPDATE users SET role_id = ");
            u.bind(*role_id)
                .push(", updated_at = ")
                .bind(at)
                .push(&format!(", version = version + 1 WHERE id IN ({SELECTED})"));
            txn.exec(&u).await?;
        }
        BulkAction::AddTag(_) | BulkAction::AddToGroup(_) => {
            let link = if matches!(action, BulkAction::AddTag(_)) {
                Link::Tags
            } else {
                Link::Groups
            };
            let name = name.unwrap_or_default();
            let target = ensure_named(&txn, link, std::slice::from_ref(&name)).await?;
            let target = target
                .first()
                .ok_or_else(|| anyhow::anyhow!("{name} was not created"))?;
            audit::record_each(
                &txn,
                actor,
                action.audit_name(),
                SELECTED,
                None,
                Some(json!({ link_field(link): target.name })),
            )
            .await?;
            let (table, key) = link_columns(link);
            let mut s = Sql::new(&format!("INSERT INTO {table} (user_id, {key}) SELECT id, "));
            s.bind(target.id)
                // "WHERE true": SQLite cannot otherwise tell ON CONFLICT from a join.
                .push(" FROM bulk_selection WHERE true ON CONFLICT DO NOTHING");
            txn.exec(&s).await?;
        }
        BulkAction::RemoveTag(_) | BulkAction::RemoveFromGroup(_) => {
            let link = if matches!(action, BulkAction::RemoveTag(_)) {
                Link::Tags
            } else {
                Link::Groups
            };
            let name = name.unwrap_or_default();
            let (table, key) = link_columns(link);
            let names_table = link_field(link);
            let mut find = Sql::new(&format!(
                "SELECT id, name FROM {names_table} WHERE lower(name) = "
            ));
            find.bind(name.to_lowercase());
            let Some(row) = txn.one(&find).await? else {
                return Err(ServiceError::field(
                    if link == Link::Tags { "tag" } else { "group" },
                    format!(
                        "There is no {} named \"{name}\".",
                        if link == Link::Tags { "tag" } else { "group" }
                    ),
                ));
            };
            let id: i64 = row.try_get("", "id")?;
            let stored: String = row.try_get("", "name")?;
            audit::record_each(
                &txn,
                actor,
                action.audit_name(),
                SELECTED,
                Some(&format!(
                    "{obj}('{names_table}', '{}')",
                    stored.replace('\'', "''")
                )),
                None,
            )
            .await?;
            let mut s = Sql::new(&format!("DELETE FROM {table} WHERE {key} = "));
            s.bind(id).push(&format!(" AND user_id IN ({SELECTED})"));
            txn.exec(&s).await?;
        }
        BulkAction::Delete => {
            deletion_id = Some(move_to_trash(&txn, actor, affected).await?);
        }
    }
    owners.check(&txn).await?;
    finish(txn).await?;
    Ok(BulkResult {
        affected,
        deletion_id,
        skipped_self,
    })
}

fn link_columns(link: Link) -> (&'static str, &'static str) {
    match link {
        Link::Tags => ("user_tags", "tag_id"),
        Link::Groups => ("user_groups", "group_id"),
    }
}

fn link_field(link: Link) -> &'static str {
    match link {
        Link::Tags => "tags",
        Link::Groups => "groups",
    }
}

const USER_COLUMNS: &str = "id, email, username, phone, first_name, last_name, job_title, company, address, \
    language, status, role_id, balance, email_opt_in, email_opt_in_changed_at, note, attributes, password_hash, \
    must_change_password, signup_source, created_at, updated_at, last_access_at, version";

/// (table, columns copied) for everything that belongs to a user and comes back on
/// undo. Sessions and one-time tokens are not kept: a deleted user is signed out.
const DEPENDENTS: [(&str, &str); 6] = [
    ("user_tags", "user_id, tag_id"),
    ("user_groups", "user_id, group_id"),
    (
        "devices",
        "id, user_id, name, platform, created_at, last_seen_at",
    ),
    ("comments", "id, user_id, author_id, body, created_at"),
    (
        "reminders",
        "id, user_id, author_id, due_at, body, done, created_at",
    ),
    ("activities", "id, user_id, at, kind, name, detail, source"),
];

/// Copies the selected users and their rows into the trash and deletes them.
async fn move_to_trash(
    txn: &DatabaseTransaction,
    actor: &AdminInfo,
    count: u64,
) -> Result<i64, ServiceError> {
    let dialect = txn.dialect();
    let mut d =
        Sql::new("INSERT INTO deletions (actor_id, actor_email, users, created_at) VALUES (");
    d.bind(actor.id)
        .push(", ")
        .bind(actor.email.as_str())
        .push(", ")
        .bind(count as i64)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    let deletion: i64 = txn
        .one(&d)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no deletion id"))?
        .try_get("", "id")?;
    let mut copy = Sql::new(&format!(
        "INSERT INTO trash_users (deletion_id, {USER_COLUMNS}) SELECT "
    ));
    copy.bind(deletion).push(&format!(
        ", {USER_COLUMNS} FROM users WHERE id IN ({SELECTED})"
    ));
    txn.exec(&copy).await?;
    for (table, columns) in DEPENDENTS {
        let mut copy = Sql::new(&format!(
            "INSERT INTO trash_{table} (deletion_id, {columns}) SELECT "
        ));
        copy.bind(deletion).push(&format!(
            ", {columns} FROM {table} WHERE user_id IN ({SELECTED})"
        ));
        txn.exec(&copy).await?;
    }
    let snapshot = user_snapshot_expr(dialect);
    audit::record_each(
        txn,
        actor,
        "user.delete",
        SELECTED,
        Some(&snapshot),
        Some(json!({ "deletion": deletion })),
    )
    .await?;
    txn.execute_unprepared(&format!("DELETE FROM users WHERE id IN ({SELECTED})"))
        .await?;
    Ok(deletion)
}

/// Brings back the users of deletion `deletion_id` with their tags, groups, devices,
/// comments, reminders and activity, if the undo window has not passed.
pub async fn undo_delete(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AdminInfo,
    deletion_id: i64,
) -> Result<u64, ServiceError> {
    let txn = crate::backend::db::begin_write(db).await?;
    let dialect = txn.dialect();
    let mut q = Sql::new("SELECT created_at FROM deletions WHERE id = ");
    q.bind(deletion_id);
    let gone = || {
        ServiceError::Conflict(
            "This delete can no longer be undone: the users were removed for good.".into(),
        )
    };
    let created: chrono::DateTime<chrono::Utc> = txn
        .one(&q)
        .await?
        .ok_or_else(gone)?
        .try_get("", "created_at")?;
    if created + config.undo_window < now() {
        return Err(gone());
    }
    let mut restore = Sql::new(&format!("INSERT INTO users ({USER_COLUMNS}) SELECT {USER_COLUMNS} FROM trash_users WHERE deletion_id = "));
    restore.bind(deletion_id);
    let restored = txn
        .exec(&restore)
        .await
        .map_err(|e| {
            ServiceError::unique(
                e,
                "Cannot undo: a user with the same email, username or phone was created since.",
            )
        })?
        .rows_affected();
    // Bringing accounts back is acting on them.
    Authority::load(&txn, actor)
        .await?
        .may_act_on_selection(
            &txn,
            &format!("SELECT id FROM trash_users WHERE deletion_id = {deletion_id}"),
        )
        .await?;
    for (table, columns) in DEPENDENTS {
        // Tags, groups or authors deleted in the meantime are left out.
        let (select, filter) = match table {
            "user_tags" => (
                columns.to_string(),
                " AND EXISTS (SELECT 1 FROM tags WHERE tags.id = t.tag_id)",
            ),
            "user_groups" => (
                columns.to_string(),
                " AND EXISTS (SELECT 1 FROM groups WHERE groups.id = t.group_id)",
            ),
            "comments" | "reminders" => (
                columns.replace(
                    "author_id",
                    "(SELECT a.id FROM users a WHERE a.id = t.author_id)",
                ),
                "",
            ),
            _ => (columns.to_string(), ""),
        };
        let select = select
            .split(", ")
            .map(|c| {
                if c.starts_with('(') {
                    c.to_string()
                } else {
                    format!("t.{c}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let insert = |columns: &str, select: &str, condition: &str| {
            let mut s = Sql::new(&format!("INSERT INTO {table} ({columns}) SELECT {select} FROM trash_{table} t WHERE t.deletion_id = "));
            s.bind(deletion_id).push(filter).push(condition);
            s
        };
        match (columns.strip_prefix("id, "), select.strip_prefix("t.id, ")) {
            (Some(columns_but_id), Some(select_but_id)) => {
                // SQLite hands out the highest free id again, so a row added since the
                // delete may hold a trashed row's id: that row comes back under a new id.
                let free = format!(" AND NOT EXISTS (SELECT 1 FROM {table} x WHERE x.id = t.id)");
                txn.exec(insert(columns, &select, &free)).await?;
                let taken = format!(
                    " AND EXISTS (SELECT 1 FROM {table} x WHERE x.id = t.id AND x.user_id <> t.user_id) ORDER BY t.id"
                );
                txn.exec(insert(columns_but_id, select_but_id, &taken))
                    .await?;
            }
            _ => {
                txn.exec(insert(columns, &select, "")).await?;
            }
        }
    }
    let mut ids = Sql::new("SELECT id FROM trash_users WHERE deletion_id = ");
    ids.bind(deletion_id);
    let mut audit_sql = audit::insert_head(actor, "user.restore");
    audit_sql
        .push("id, email, NULL, ")
        .append(&dialect.json_value(Some(json!({ "deletion": deletion_id }))))
        .push(" FROM trash_users WHERE deletion_id = ")
        .bind(deletion_id);
    txn.exec(&audit_sql).await?;
    let mut del = Sql::new("DELETE FROM deletions WHERE id = ");
    del.bind(deletion_id);
    txn.exec(&del).await?;
    txn.commit().await?;
    Ok(restored)
}

/// Removes for good what was deleted before `now - undo_window`. Returns how many
/// users were purged.
pub async fn purge_expired(
    db: &DatabaseConnection,
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, ServiceError> {
    let txn = crate::backend::db::begin_write(db).await?;
    let cutoff = now - config.undo_window;
    let mut count =
        Sql::new("SELECT coalesce(sum(users), 0) AS n FROM deletions WHERE created_at < ");
    count.bind(cutoff);
    let row = txn.one(&count).await?;
    let purged = match row {
        Some(r) => super::users::read_count(&r)?,
        None => 0,
    };
    // Trash rows go with their deletion (ON DELETE CASCADE); delete them explicitly
    // too, so SQLite without foreign keys enforced behaves the same.
    for table in [
        "users",
        "user_tags",
        "user_groups",
        "devices",
        "comments",
        "reminders",
        "activities",
    ] {
        let mut s = Sql::new(&format!("DELETE FROM trash_{table} WHERE deletion_id IN (SELECT id FROM deletions WHERE created_at < "));
        s.bind(cutoff).push(")");
        txn.exec(&s).await?;
    }
    let mut s = Sql::new("DELETE FROM deletions WHERE created_at < ");
    s.bind(cutoff);
    txn.exec(&s).await?;
    txn.commit().await?;
    Ok(purged)
}
