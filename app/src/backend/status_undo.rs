//! Status changes are undoable for the undo window, like deletes: the command keeps
//! each changed user's previous status (`status_changes`, `status_change_users`), and
//! `undo` puts it back on every user nobody has changed since; `purge_expired` drops
//! what is older than the window.

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use serde_json::json;

use super::authority::{Authority, OwnerGuard};
use super::dialect::Run;
use super::sql::Sql;
use super::{audit, now, Config, ServiceError};
use crate::domain::{AdminInfo, Status, StatusUndo};

/// Opens the undo's handle for a change of `count` users to `status`.
pub async fn open(
    txn: &DatabaseTransaction,
    actor: &AdminInfo,
    status: Status,
    count: u64,
) -> Result<i64, ServiceError> {
    let mut s =
        Sql::new("INSERT INTO status_changes (actor_id, status, users, created_at) VALUES (");
    s.bind(actor.id)
        .push(", ")
        .bind(status.as_str())
        .push(", ")
        .bind(count as i64)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    super::db::inserted_id(txn, &s, "status change").await
}

/// Keeps the status of the users of subquery `users` that `status` is about to change,
/// with the version the change gives them and when each was created. Call before the
/// update.
pub async fn remember(
    txn: &DatabaseTransaction,
    change: i64,
    status: Status,
    users: &str,
) -> Result<(), ServiceError> {
    let mut s = Sql::new(
        "INSERT INTO status_change_users (change_id, user_id, previous, version, user_created_at) SELECT ",
    );
    s.bind(change)
        .push(&format!(
            ", id, status, version + 1, created_at FROM users WHERE id IN ({users}) AND status <> "
        ))
        .bind(status.as_str());
    txn.exec(&s).await?;
    Ok(())
}

/// The undo window opens when the change commits, not when a long command began.
pub async fn committing(txn: &DatabaseTransaction, change: i64) -> Result<(), ServiceError> {
    let mut s = Sql::new("UPDATE status_changes SET created_at = ");
    s.bind(now()).push(" WHERE id = ").bind(change);
    txn.exec(&s).await?;
    Ok(())
}

/// Puts back the previous status of the users of change `change_id` that nobody has
/// changed since, if the undo window has not passed; the others keep their state.
///
/// Every statement tests each user's own row (`users.version`, `users.created_at`), and
/// on PostgreSQL the rows are held before they are audited and updated, so a change
/// committed meanwhile by another admin is seen and kept; the change's own row is
/// claimed first, so one undo runs once.
pub async fn undo(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AdminInfo,
    change_id: i64,
) -> Result<StatusUndo, ServiceError> {
    let txn = super::db::begin_write(db).await?;
    let gone = || ServiceError::Conflict("This status change can no longer be undone.".into());
    // Claims the change (a second undo waits here, then finds it gone).
    let mut claim = Sql::new("UPDATE status_changes SET users = users WHERE id = ");
    claim.bind(change_id).push(" RETURNING created_at");
    let row = txn.one(&claim).await?.ok_or_else(gone)?;
    let created: chrono::DateTime<chrono::Utc> = row.try_get("", "created_at")?;
    if created + config.undo_window < now() {
        return Err(gone());
    }
    // A condition on `users`: the users of the change still as it left them, with
    // `previous` when given. Never the actor's own account: nobody changes their own status. The
    // change's rows drive it (`IN`); each user's own row is tested (`EXISTS`).
    let users = |previous: Option<Status>| {
        let only = previous
            .map(|p| format!(" AND c.previous = '{}'", p.as_str()))
            .unwrap_or_default();
        format!(
            "users.id IN (SELECT c.user_id FROM status_change_users c WHERE c.change_id = {change_id}{only} \
             AND c.user_id <> {actor}) AND EXISTS (SELECT 1 FROM status_change_users v \
             WHERE v.change_id = {change_id} AND v.user_id = users.id AND users.version = v.version \
             AND users.created_at = v.user_created_at)",
            actor = actor.id
        )
    };
    let mut count = Sql::new("SELECT count(*) AS n FROM status_change_users WHERE change_id = ");
    count
        .bind(change_id)
        .push(" AND user_id <> ")
        .bind(actor.id);
    let remembered = match txn.one(&count).await? {
        Some(row) => super::users::read_count(&row)?,
        None => 0,
    };
    // Setting a status back is acting on those users.
    Authority::load(&txn, actor)
        .await?
        .may_act_on_selection(
            &txn,
            &format!("SELECT users.id FROM users WHERE {}", users(None)),
        )
        .await?;
    let owners = OwnerGuard::start(&txn).await?;
    let obj = txn.dialect().json_object_fn();
    let at = now();
    let mut restored = 0;
    let lock = txn.dialect().row_lock();
    for previous in Status::ALL {
        let these = format!("SELECT users.id FROM users WHERE {}", users(Some(previous)));
        if !lock.is_empty() {
            // PostgreSQL: hold these rows first; one changed meanwhile by another admin
            // is tested again after that change commits, and left out.
            txn.execute_unprepared(&format!("SELECT count(*) FROM ({these}{lock}) AS held"))
                .await?;
        }
        // One batch per status given back, so the log's one line says which.
        let batch = match remembered {
            0 | 1 => None,
            _ => Some(audit::open_batch(&txn).await?),
        };
        let n = audit::record_each_in(
            &txn,
            actor,
            "user.status",
            &these,
            Some(&format!("{obj}('status', users.status)")),
            Some(json!({ "status": previous.as_str(), "undo": change_id })),
            batch,
        )
        .await?;
        if let Some(batch) = batch {
            audit::close_batch(&txn, batch, n).await?;
        }
        if n == 0 {
            continue;
        }
        if previous == Status::Banned {
            // Banned again: their sessions end, as with any ban.
            txn.execute_unprepared(&format!("DELETE FROM sessions WHERE user_id IN ({these})"))
                .await?;
        }
        let mut u = Sql::new("UPDATE users SET status = ");
        u.bind(previous.as_str())
            .push(", updated_at = ")
            .bind(at)
            .push(&format!(
                ", version = version + 1 WHERE {}",
                users(Some(previous))
            ));
        restored += txn.exec(&u).await?.rows_affected();
    }
    owners.check(&txn).await?;
    let mut forget = Sql::new("DELETE FROM status_change_users WHERE change_id = ");
    forget.bind(change_id);
    txn.exec(&forget).await?;
    let mut forget = Sql::new("DELETE FROM status_changes WHERE id = ");
    forget.bind(change_id);
    txn.exec(&forget).await?;
    txn.commit().await?;
    Ok(StatusUndo {
        restored,
        kept: remembered.saturating_sub(restored),
    })
}

/// Forgets the changes made before `cutoff`: they can no longer be undone.
pub async fn purge_expired<C: ConnectionTrait>(
    txn: &C,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<(), ServiceError> {
    let mut s = Sql::new(
        "DELETE FROM status_change_users WHERE change_id IN \
         (SELECT id FROM status_changes WHERE created_at < ",
    );
    s.bind(cutoff).push(")");
    txn.exec(&s).await?;
    let mut s = Sql::new("DELETE FROM status_changes WHERE created_at < ");
    s.bind(cutoff);
    txn.exec(&s).await?;
    Ok(())
}
