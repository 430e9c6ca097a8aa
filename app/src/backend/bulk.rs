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
use super::status_undo;
use super::transfer::Reporter;
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

/// Users changed per statement, between progress reports.
const CHUNK: u64 = 10_000;

/// The selection cut into runs of [`CHUNK`] ids (by id), each as a subquery, so a
/// large command reports its progress as it goes, still in one transaction.
async fn chunks(txn: &DatabaseTransaction, selected: u64) -> Result<Vec<String>, ServiceError> {
    if selected <= CHUNK {
        return Ok(vec![SELECTED.to_string()]);
    }
    let bounds = txn
        .all(&Sql::new(&format!(
            "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM bulk_selection) s \
             WHERE n % {CHUNK} = 0 ORDER BY id"
        )))
        .await?;
    let mut out = Vec::with_capacity(bounds.len() + 1);
    let mut lower = i64::MIN;
    for row in bounds {
        let upper: i64 = row.try_get("", "id")?;
        out.push(format!(
            "SELECT id FROM bulk_selection WHERE id > {lower} AND id <= {upper}"
        ));
        lower = upper;
    }
    out.push(format!("SELECT id FROM bulk_selection WHERE id > {lower}"));
    Ok(out)
}

/// Drops the selection and commits; a background job's "done" (`job`) is written in
/// the same transaction as its work.
async fn finish(
    txn: DatabaseTransaction,
    job: Option<i64>,
    result: &BulkResult,
) -> Result<(), ServiceError> {
    if let Some(drop) = txn.dialect().drop_temp_table("bulk_selection") {
        txn.execute_unprepared(&drop).await?;
    }
    if let Some(id) = job {
        super::bulk_jobs::record_done(&txn, id, result).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The tag or group a tag or group action names, checked before any write.
fn named(action: &BulkAction) -> Result<Option<String>, ServiceError> {
    let (BulkAction::AddTag(n)
    | BulkAction::RemoveTag(n)
    | BulkAction::AddToGroup(n)
    | BulkAction::RemoveFromGroup(n)) = action
    else {
        return Ok(None);
    };
    let field = if matches!(action, BulkAction::AddTag(_) | BulkAction::RemoveTag(_)) {
        "tag"
    } else {
        "group"
    };
    let cleaned =
        clean_names(std::slice::from_ref(n)).map_err(|e| ServiceError::field(field, e))?;
    cleaned
        .into_iter()
        .next()
        .map(Some)
        .ok_or_else(|| ServiceError::field(field, format!("Enter a {field} name.")))
}

/// Checks what can be checked of `action` without reading users (a background job
/// refuses bad input before it starts).
pub fn check(action: &BulkAction) -> Result<(), ServiceError> {
    named(action).map(|_| ())
}

/// Applies `action` to every selected user in one transaction.
pub async fn apply(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    selection: &Selection,
    action: &BulkAction,
) -> Result<BulkResult, ServiceError> {
    run(db, actor, selection, action, &Reporter::silent(), None).await
}

/// What one run of users gets, prepared once for the whole selection.
enum Step {
    SetStatus { status: Status, change: i64 },
    SetRole(i64),
    Link { link: Link, id: i64, name: String },
    Unlink { link: Link, id: i64, name: String },
    Delete { deletion: i64 },
}

/// [`apply`], reporting its progress, for background job `job` when given (whose
/// "done" commits with the work).
pub async fn run(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    selection: &Selection,
    action: &BulkAction,
    progress: &Reporter<'_>,
    job: Option<i64>,
) -> Result<BulkResult, ServiceError> {
    let spare_actor = matches!(
        action,
        BulkAction::SetStatus(_) | BulkAction::SetRole(_) | BulkAction::Delete
    );
    // Validate names before any write.
    let name = named(action)?;
    progress.report("Selecting users", 0, 0);
    let txn = crate::backend::db::begin_write(db).await?;
    let authority = Authority::load(&txn, actor).await?;
    if let BulkAction::SetRole(role_id) = action {
        authority.may_give(*role_id, "role")?;
    }
    let (affected, skipped_self) = select(&txn, actor, selection, spare_actor).await?;
    let mut result = BulkResult {
        affected,
        deletion_id: None,
        skipped_self,
        status_change_id: None,
        job: None,
    };
    if affected == 0 {
        finish(txn, job, &result).await?;
        return Ok(result);
    }
    progress.report("Checking rights", 0, affected);
    // Every selected user must be within the actor's rights, whatever the action.
    authority.may_act_on_selection(&txn, SELECTED).await?;
    let owners = OwnerGuard::start(&txn).await?;
    let step = match action {
        BulkAction::SetStatus(status) => {
            let change = status_undo::open(&txn, actor, *status, affected).await?;
            result.status_change_id = Some(change);
            Step::SetStatus {
                status: *status,
                change,
            }
        }
        BulkAction::SetRole(role_id) => Step::SetRole(*role_id),
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
            Step::Link {
                link,
                id: target.id,
                name: target.name.clone(),
            }
        }
        BulkAction::RemoveTag(_) | BulkAction::RemoveFromGroup(_) => {
            let link = if matches!(action, BulkAction::RemoveTag(_)) {
                Link::Tags
            } else {
                Link::Groups
            };
            let name = name.unwrap_or_default();
            let names_table = link_field(link);
            let what = if link == Link::Tags { "tag" } else { "group" };
            let mut find = Sql::new(&format!(
                "SELECT id, name FROM {names_table} WHERE lower(name) = "
            ));
            find.bind(name.to_lowercase());
            let Some(row) = txn.one(&find).await? else {
                return Err(ServiceError::field(
                    what,
                    format!("There is no {what} named \"{name}\"."),
                ));
            };
            Step::Unlink {
                link,
                id: row.try_get("", "id")?,
                name: row.try_get("", "name")?,
            }
        }
        BulkAction::Delete => {
            let deletion = open_deletion(&txn, actor, affected).await?;
            result.deletion_id = Some(deletion);
            Step::Delete { deletion }
        }
    };
    let phase = if matches!(step, Step::Delete { .. }) {
        "Deleting users"
    } else {
        "Updating users"
    };
    // Many users: their audit entries are listed as one.
    let batch = match affected {
        0 | 1 => None,
        _ => Some(audit::open_batch(&txn).await?),
    };
    let runs = chunks(&txn, affected).await?;
    let last = runs.len();
    for (i, users) in runs.iter().enumerate() {
        progress.report(phase, (i as u64 * CHUNK).min(affected), affected);
        apply_step(&txn, actor, action, &step, users, batch).await?;
        if i + 1 == last {
            progress.report("Saving", affected, affected);
        }
    }
    owners.check(&txn).await?;
    if let Some(batch) = batch {
        audit::close_batch(&txn, batch, affected).await?;
    }
    if let Some(deletion) = result.deletion_id {
        // The undo window opens when the users are gone, not when a long delete began.
        let mut d = Sql::new("UPDATE deletions SET created_at = ");
        d.bind(now()).push(" WHERE id = ").bind(deletion);
        txn.exec(&d).await?;
    }
    if let Some(change) = result.status_change_id {
        status_undo::committing(&txn, change).await?;
    }
    finish(txn, job, &result).await?;
    Ok(result)
}

/// Does `step` to the users of subquery `users`, with an audit entry for each.
async fn apply_step(
    txn: &DatabaseTransaction,
    actor: &AdminInfo,
    action: &BulkAction,
    step: &Step,
    users: &str,
    batch: Option<i64>,
) -> Result<(), ServiceError> {
    let obj = txn.dialect().json_object_fn();
    let at = now();
    match step {
        Step::SetStatus { status, change } => {
            status_undo::remember(txn, *change, *status, users).await?;
            audit::record_each_in(
                txn,
                actor,
                action.audit_name(),
                users,
                Some(&format!("{obj}('status', users.status)")),
                Some(json!({ "status": status.as_str() })),
                batch,
            )
            .await?;
            let mut u = Sql::new("UPDATE users SET status = ");
            u.bind(status.as_str())
                .push(", updated_at = ")
                .bind(at)
                .push(&format!(", version = version + 1 WHERE id IN ({users})"));
            txn.exec(&u).await?;
            if *status == Status::Banned {
                // A ban takes effect at once: the users' sessions end.
                txn.execute_unprepared(&format!("DELETE FROM sessions WHERE user_id IN ({users})"))
                    .await?;
            }
        }
        Step::SetRole(role_id) => {
            audit::record_each_in(
                txn,
                actor,
                action.audit_name(),
                users,
                Some(&format!("{obj}('role_id', users.role_id)")),
                Some(json!({ "role_id": role_id })),
                batch,
            )
            .await?;
            let mut u = Sql::new("UPDATE users SET role_id = ");
            u.bind(*role_id)
                .push(", updated_at = ")
                .bind(at)
                .push(&format!(", version = version + 1 WHERE id IN ({users})"));
            txn.exec(&u).await?;
        }
        Step::Link { link, id, name } => {
            audit::record_each_in(
                txn,
                actor,
                action.audit_name(),
                users,
                None,
                Some(json!({ link_field(*link): name })),
                batch,
            )
            .await?;
            let (table, key) = link_columns(*link);
            let mut s = Sql::new(&format!("INSERT INTO {table} (user_id, {key}) SELECT id, "));
            s.bind(*id)
                // "WHERE true": SQLite cannot otherwise tell ON CONFLICT from a join.
                .push(&format!(
                    " FROM ({users}) s WHERE true ON CONFLICT DO NOTHING"
                ));
            txn.exec(&s).await?;
        }
        Step::Unlink { link, id, name } => {
            let names_table = link_field(*link);
            audit::record_each_in(
                txn,
                actor,
                action.audit_name(),
                users,
                Some(&format!(
                    "{obj}('{names_table}', '{}')",
                    name.replace('\'', "''")
                )),
                None,
                batch,
            )
            .await?;
            let (table, key) = link_columns(*link);
            let mut s = Sql::new(&format!("DELETE FROM {table} WHERE {key} = "));
            s.bind(*id).push(&format!(" AND user_id IN ({users})"));
            txn.exec(&s).await?;
        }
        Step::Delete { deletion } => move_to_trash(txn, actor, *deletion, users, batch).await?,
    }
    Ok(())
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

/// Opens the trash entry (the undo's handle) for a delete of `count` users.
async fn open_deletion(
    txn: &DatabaseTransaction,
    actor: &AdminInfo,
    count: u64,
) -> Result<i64, ServiceError> {
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
    crate::backend::db::inserted_id(txn, &d, "deletion").await
}

/// Copies the users of subquery `users` and their rows into trash entry `deletion`
/// and deletes them.
async fn move_to_trash(
    txn: &DatabaseTransaction,
    actor: &AdminInfo,
    deletion: i64,
    users: &str,
    batch: Option<i64>,
) -> Result<(), ServiceError> {
    let dialect = txn.dialect();
    let mut copy = Sql::new(&format!(
        "INSERT INTO trash_users (deletion_id, {USER_COLUMNS}) SELECT "
    ));
    copy.bind(deletion).push(&format!(
        ", {USER_COLUMNS} FROM users WHERE id IN ({users})"
    ));
    txn.exec(&copy).await?;
    for (table, columns) in DEPENDENTS {
        let mut copy = Sql::new(&format!(
            "INSERT INTO trash_{table} (deletion_id, {columns}) SELECT "
        ));
        copy.bind(deletion).push(&format!(
            ", {columns} FROM {table} WHERE user_id IN ({users})"
        ));
        txn.exec(&copy).await?;
    }
    let snapshot = user_snapshot_expr(dialect);
    audit::record_each_in(
        txn,
        actor,
        "user.delete",
        users,
        Some(&snapshot),
        Some(json!({ "deletion": deletion })),
        batch,
    )
    .await?;
    txn.execute_unprepared(&format!("DELETE FROM users WHERE id IN ({users})"))
        .await?;
    Ok(())
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
    status_undo::purge_expired(&txn, cutoff).await?;
    txn.commit().await?;
    Ok(purged)
}
