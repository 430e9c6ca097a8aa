//! Tags as the filter bar offers them.

use sea_orm::ConnectionTrait;

use super::dialect::Run;
use super::sql::Sql;
use super::ServiceError;
use crate::domain::TagInfo;

/// Every tag with the number of users carrying it, by name.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<TagInfo>, ServiceError> {
    let q = Sql::new(
        "SELECT tags.id, tags.name, tags.color, \
         (SELECT count(*) FROM user_tags WHERE user_tags.tag_id = tags.id) AS users \
         FROM tags ORDER BY lower(tags.name)",
    );
    Ok(db
        .all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(TagInfo {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
                color: r.try_get("", "color")?,
                users: r.try_get("", "users")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?)
}
