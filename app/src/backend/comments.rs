//! Admins' comments on a user: listed, added, deleted (each audited).

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
};
use serde_json::json;

use super::audit::{self, Entry};
use super::dialect::Run;
use super::entities::comment;
use super::sql::Sql;
use super::users::user_email;
use super::{now, ServiceError};
use crate::domain::{AdminInfo, CommentInfo};

/// Admin comments on user `id`, newest first.
pub async fn comments<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
) -> Result<Vec<CommentInfo>, ServiceError> {
    user_email(db, user_id).await?;
    let mut q = Sql::new(
        "SELECT c.id, c.author_id, c.body, c.created_at, \
         coalesce(nullif(trim(a.first_name || ' ' || a.last_name), ''), a.email, 'Deleted admin') AS author \
         FROM comments c LEFT JOIN users a ON a.id = c.author_id WHERE c.user_id = ",
    );
    q.bind(user_id)
        .push(" ORDER BY c.created_at DESC, c.id DESC");
    Ok(db.all_as(q).await?)
}

/// Adds a comment by the actor on user `id`.
pub async fn add_comment(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    user_id: i64,
    body: &str,
) -> Result<(), ServiceError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(ServiceError::field("comment", "Write something first."));
    }
    if body.chars().count() > 5000 {
        return Err(ServiceError::field(
            "comment",
            "Use at most 5000 characters.",
        ));
    }
    audit::command(db, actor, async |txn| {
        let email = user_email(txn, user_id).await?;
        comment::ActiveModel {
            user_id: Set(user_id),
            author_id: Set(Some(actor.id)),
            body: Set(body.to_string()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let entry =
            Entry::on("user.comment_add", user_id, &email).after(json!({ "comment": body }));
        Ok(((), entry))
    })
    .await
}

/// Deletes a comment; admins delete only their own.
pub async fn delete_comment(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    comment_id: i64,
) -> Result<(), ServiceError> {
    audit::command(db, actor, async |txn| {
        let mut q = Sql::new("SELECT c.user_id, c.author_id, c.body, u.email FROM comments c JOIN users u ON u.id = c.user_id WHERE c.id = ");
        q.bind(comment_id);
        let row = txn
            .one(&q)
            .await?
            .ok_or_else(|| ServiceError::NotFound("That comment".into()))?;
        if row.try_get::<Option<i64>>("", "author_id")? != Some(actor.id) {
            return Err(ServiceError::Forbidden(
                "deleting comments of other admins".into(),
            ));
        }
        let user_id: i64 = row.try_get("", "user_id")?;
        let email: String = row.try_get("", "email")?;
        comment::Entity::delete_by_id(comment_id).exec(txn).await?;
        let body: String = row.try_get("", "body")?;
        let entry = Entry::on("user.comment_delete", user_id, &email).before(json!({ "comment": body }));
        Ok(((), entry))
    })
    .await
}
