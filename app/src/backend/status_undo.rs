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
    Ok(txn
        .one(&s)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no status change id"))?
        .try_get("", "id")?)
}

/// Keeps the status of the users of subquery `users` that `status` is about to change,
/// with the version the change gives them. Call before the update.
pub async fn remember(
    txn: &DatabaseTransaction,
    change: i64,
    status: Status,
    users: &str,
) -> Result<(), ServiceError> {
    let mut s =
        Sql::new("INSERT INTO status_change_users (change_id, user_id, previous, version) SELECT ");
    s.bind(change)
        .push(&format!(
            ", id, status, version + 1 FROM users WHERE id IN ({users}) AND status <> "
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
pub async fn undo(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AdminInfo,
    change_id: i64,
) -> Result<StatusUndo, ServiceError> {
    let txn = super::db::begin_write(db).await?;
    let gone = || ServiceError::Conflict("This status change can no longer be undone.".into());
    let mut q = Sql::new("SELECT created_at FROM status_changes WHERE id = ");
    q.bind(change_id);
    let created: chrono::DateTime<chrono::Utc> = txn
        .one(&q)
        .await?
        .ok_or_else(gone)?
        .try_get("", "created_at")?;
    if created + config.undo_window < now() {
        return Err(gone());
    }
    // Users still as the change left them; the others were changed (or deleted) since.
    let unchanged = format!(
        "SELECT c.user_id FROM status_change_users c JOIN users u ON u.id = c.user_id \
         AND u.version = c.version WHERE c.change_id = {change_id}"
    );
    let mut count = Sql::new("SELECT count(*) AS n FROM status_change_users WHERE change_id = ");
    count.bind(change_id);
    let remembered = match txn.one(&count).await? {
        Some(row) => super::users::read_count(&row)?,
        None => 0,
    };
    // Setting a status back is acting on those users.
    Authority::load(&txn, actor)
        .await?
        .may_act_on_selection(&txn, &unchanged)
        .await?;
    let owners = OwnerGuard::start(&txn).await?;
    let obj = txn.dialect().json_object_fn();
    let at = now();
    let mut restored = 0;
    for previous in Status::ALL {
        let users = format!(
            "SELECT c.user_id FROM status_change_users c JOIN users u ON u.id = c.user_id \
             AND u.version = c.version WHERE c.change_id = {change_id} AND c.previous = '{}'",
            previous.as_str()
        );
        restored += audit::record_each(
            &txn,
            actor,
            "user.status",
            &users,
            Some(&format!("{obj}('status', users.status)")),
            Some(json!({ "status": previous.as_str(), "undo": change_id })),
        )
        .await?;
        if previous == Status::Banned {
            // Banned again: their sessions end, as with any ban.
            txn.execute_unprepared(&format!("DELETE FROM sessions WHERE user_id IN ({users})"))
                .await?;
        }
        let mut u = Sql::new("UPDATE users SET status = ");
        u.bind(previous.as_str())
            .push(", updated_at = ")
            .bind(at)
            .push(&format!(", version = version + 1 WHERE id IN ({users})"));
        txn.exec(&u).await?;
    }
    owners.check(&txn).await?;
    let mut done = Sql::new("DELETE FROM status_change_users WHERE change_id = ");
    done.bind(change_id);
    txn.exec(&done).await?;
    let mut done = Sql::new("DELETE FROM status_changes WHERE id = ");
    done.bind(change_id);
    txn.exec(&done).await?;
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
