//! Display formatting shared by the table and the drawer.

use chrono::{DateTime, Utc};

pub fn date(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

pub fn date_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn opt_date_time(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref()
        .map(date_time)
        .unwrap_or_else(|| "Never".to_string())
}

pub use crate::domain::user::group_thousands as count;
