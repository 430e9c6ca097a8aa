//! Display formatting shared by the table and the drawer.

use chrono::{DateTime, Utc};

use crate::domain::dates::{format_day, format_minute};

pub fn date(at: &DateTime<Utc>) -> String {
    format_day(at.date_naive())
}

pub fn date_time(at: &DateTime<Utc>) -> String {
    format_minute(at)
}

pub fn opt_date_time(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref()
        .map(date_time)
        .unwrap_or_else(|| "Never".to_string())
}

pub use crate::domain::user::group_thousands as count;

/// The current time, in the browser from the JavaScript clock (std's clock does not
/// exist on wasm32-unknown-unknown and panics), on the server from the system.
pub fn now() -> DateTime<Utc> {
    #[cfg(target_arch = "wasm32")]
    {
        let ms = js_sys::Date::now() as i64;
        DateTime::from_timestamp_millis(ms).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Utc::now()
    }
}
