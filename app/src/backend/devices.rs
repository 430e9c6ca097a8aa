//! A user's devices: recorded at sign-in from the user agent, removed by an admin.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::dialect::Run;
use super::sql::Sql;
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
    let mut u = Sql::new("UPDATE devices SET last_seen_at = ");
    u.bind(at)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND name = ")
        .bind(name.clone());
    if db.exec(&u).await?.rows_affected() == 0 {
        let mut i = Sql::new(
            "INSERT INTO devices (user_id, name, platform, created_at, last_seen_at) VALUES (",
        );
        i.bind(user_id)
            .push(", ")
            .bind(name)
            .push(", ")
            .bind(platform)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(")");
        db.exec(&i).await?;
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
