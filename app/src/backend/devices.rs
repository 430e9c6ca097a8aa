//! A user's devices: recorded at sign-in from the user agent, removed by an admin.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};

use super::entities::device;
use super::user_rows::{delete_owned_row, OwnedRow};
use super::ServiceError;
use crate::domain::AdminInfo;

/// Removes one of the user's devices.
pub async fn remove_device(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    user_id: i64,
    device_id: i64,
) -> Result<(), ServiceError> {
    let row = OwnedRow {
        table: "devices",
        columns: ["name", "platform"],
        what: "That device",
        action: "user.device_remove",
    };
    delete_owned_row(db, actor, user_id, device_id, row).await
}

/// The user agent as a device: seen again, or new.
pub(crate) async fn record_device<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    user_agent: &str,
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let name = if user_agent.trim().is_empty() {
        "Unknown device".to_string()
    } else {
        user_agent.chars().take(120).collect()
    };
    let platform = platform_of(user_agent);
    let seen = device::Entity::update_many()
        .col_expr(device::Column::LastSeenAt, Expr::value(at))
        .filter(device::Column::UserId.eq(user_id))
        .filter(device::Column::Name.eq(name.clone()))
        .exec(db)
        .await?;
    if seen.rows_affected == 0 {
        device::ActiveModel {
            user_id: Set(user_id),
            name: Set(name),
            platform: Set(platform.to_string()),
            created_at: Set(at),
            last_seen_at: Set(Some(at)),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// A platform name from a user agent, for the devices list.
pub fn platform_of(user_agent: &str) -> &'static str {
    let ua = user_agent.to_lowercase();
    [
        ("android", "Android"),
        ("iphone", "iOS"),
        ("ipad", "iOS"),
        ("windows", "Windows"),
        ("mac os", "macOS"),
        ("linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_read_from_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
                "iOS",
            ),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8)", "Android"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)", "macOS"),
            ("curl/8.5.0", ""),
        ];
        for (ua, want) in cases {
            assert_eq!(platform_of(ua), want, "{ua}");
        }
    }
}
