//! Reminders on users: add, edit, mark done, delete; the due and overdue ones across
//! all users for the Reminders view and its count badge.

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{Set, Unchanged},
    ConnectionTrait, DatabaseConnection, EntityTrait,
};
use serde_json::json;

use super::dialect::Run;
use super::entities::reminder;
use super::sql::Sql;
use super::users::user_email;
use super::{audit, now, ServiceError};
use crate::domain::activity::ReminderInfo;
use crate::domain::AdminInfo;

const COLUMNS: &str = "r.id, r.user_id, r.due_at, r.body, r.done, \
    coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.email) AS user_name, \
    coalesce(a.email, '') AS author";
const FROM: &str =
    "FROM reminders r JOIN users u ON u.id = r.user_id LEFT JOIN users a ON a.id = r.author_id";

async fn query<C: ConnectionTrait>(db: &C, q: Sql) -> Result<Vec<ReminderInfo>, ServiceError> {
    Ok(db.all_as(q).await?)
}

/// A user's reminders: open ones by due time, then done ones.
pub async fn for_user<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
) -> Result<Vec<ReminderInfo>, ServiceError> {
    user_email(db, user_id).await?;
    let mut q = Sql::new(&format!("SELECT {COLUMNS} {FROM} WHERE r.user_id = "));
    q.bind(user_id).push(" ORDER BY r.done, r.due_at, r.id");
    query(db, q).await
}

/// Open reminders due before `until`, across all users, oldest first.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ReminderInfo>, ServiceError> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} {FROM} WHERE r.done = "));
    q.bind(false)
        .push(" AND r.due_at < ")
        .bind(until)
        .push(" ORDER BY r.due_at, r.id LIMIT 500");
    query(db, q).await
}

/// How many open reminders are due before `until` (the navigation badge).
pub async fn due_count<C: ConnectionTrait>(
    db: &C,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<i64, ServiceError> {
    let mut q = Sql::new("SELECT count(*) AS n FROM reminders WHERE done = ");
    q.bind(false).push(" AND due_at < ").bind(until);
    Ok(db
        .one(&q)
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0))
}

fn check_body(body: &str) -> Result<String, ServiceError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(ServiceError::field("body", "Write what to do."));
    }
    if body.chars().count() > 1000 {
        return Err(ServiceError::field("body", "Use at most 1000 characters."));
    }
    Ok(body.to_string())
}

/// Adds a reminder on user `user_id`.
pub async fn add(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    user_id: i64,
    due_at: chrono::DateTime<chrono::Utc>,
    body: &str,
) -> Result<(), ServiceError> {
    let body = check_body(body)?;
    audit::command(db, actor, async |txn| {
        let email = user_email(txn, user_id).await?;
        reminder::ActiveModel {
            user_id: Set(user_id),
            author_id: Set(Some(actor.id)),
            due_at: Set(due_at),
            body: Set(body.clone()),
            done: Set(false),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let entry = audit::Entry::new(
            "reminder.add",
            Some((user_id, &email)),
            None,
            Some(json!({ "due_at": due_at.timestamp(), "body": body })),
        );
        Ok(((), entry))
    })
    .await
}

/// Changes a reminder's time, text and done flag.
pub async fn update(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
    due_at: chrono::DateTime<chrono::Utc>,
    body: &str,
    done: bool,
) -> Result<(), ServiceError> {
    let body = check_body(body)?;
    audit::command(db, actor, async |txn| {
        let (user_id, email) = owner(txn, id).await?;
        reminder::ActiveModel {
            id: Unchanged(id),
            due_at: Set(due_at),
            body: Set(body.clone()),
            done: Set(done),
            ..Default::default()
        }
        .update(txn)
        .await?;
        let entry = audit::Entry::new(
            "reminder.update",
            Some((user_id, &email)),
            None,
            Some(json!({ "due_at": due_at.timestamp(), "body": body, "done": done })),
        );
        Ok(((), entry))
    })
    .await
}

/// Deletes a reminder.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
) -> Result<(), ServiceError> {
    audit::command(db, actor, async |txn| {
        let (user_id, email) = owner(txn, id).await?;
        reminder::Entity::delete_by_id(id).exec(txn).await?;
        let entry = audit::Entry::new("reminder.delete", Some((user_id, &email)), None, None);
        Ok(((), entry))
    })
    .await
}

async fn owner<C: ConnectionTrait>(db: &C, id: i64) -> Result<(i64, String), ServiceError> {
    let mut q = Sql::new(
        "SELECT r.user_id, u.email FROM reminders r JOIN users u ON u.id = r.user_id WHERE r.id = ",
    );
    q.bind(id);
    let row = db
        .one(&q)
        .await?
        .ok_or_else(|| ServiceError::NotFound("That reminder".into()))?;
    Ok((row.try_get("", "user_id")?, row.try_get("", "email")?))
}
