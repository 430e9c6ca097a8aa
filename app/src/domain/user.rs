//! What the users page shows: table rows, one page of them, and the drawer's detail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Active,
    Banned,
    Invited,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Active, Status::Banned, Status::Invited];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Banned => "banned",
            Status::Invited => "invited",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Banned => "Banned",
            Status::Invited => "Invited",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// One row of the users table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub status: Status,
    pub role: String,
    /// Minor units (cents).
    pub balance: i64,
    pub devices: i64,
    pub tags: i64,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub last_access_at: Option<DateTime<Utc>>,
    /// Custom field values as text, by field key.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
}

impl UserRow {
    pub fn display_name(&self) -> String {
        display_name(&self.first_name, &self.last_name, &self.email)
    }
}

/// "First Last", or the email when both names are empty.
pub fn display_name(first: &str, last: &str, email: &str) -> String {
    let name = format!("{first} {last}");
    let name = name.trim();
    if name.is_empty() {
        email.to_string()
    } else {
        name.to_string()
    }
}

/// Minor units as a decimal amount: 123456 -> "1,234.56", -5 -> "-0.05".
pub fn format_balance(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", group_thousands(abs / 100), abs % 100)
}

/// 1234567 -> "1,234,567".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// How many matching users a page of the table counts exactly when a search or a
/// filter is set (the plain list and a status alone are always exact: triggers keep
/// their totals). Past it, the page says "more than 1,000" and the exact figure is
/// counted on request ([`crate::api::users::count_users`]): counting every match of a
/// short search at a million users costs a hundred times what its page does (on
/// PostgreSQL each match of a substring search is read from the table, about 3 µs).
pub const EXACT_COUNT_UP_TO: u64 = 1_000;

/// One page of the users table and the number of users matching the filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserPage {
    pub rows: Vec<UserRow>,
    /// The users matching the filters; when `exact` is false, more than this many
    /// match (counting stopped there).
    pub total: u64,
    pub exact: bool,
    pub page: u32,
    pub per_page: u32,
}

impl UserPage {
    /// The pages known to exist (more may follow when the total is not exact).
    pub fn page_count(&self) -> u32 {
        page_count(self.total, self.per_page)
    }
}

/// Pages of `per_page` rows that `total` users fill (at least one).
pub fn page_count(total: u64, per_page: u32) -> u32 {
    let pages = total.div_ceil(u64::from(per_page.max(1)));
    u32::try_from(pages.max(1)).unwrap_or(u32::MAX)
}

/// "1,234 users", or "More than 1,000 users" when counting stopped.
pub fn total_text(total: u64, exact: bool) -> String {
    let noun = if total == 1 && exact { "user" } else { "users" };
    if exact {
        format!("{} {noun}", group_thousands(total))
    } else {
        format!("More than {} {noun}", group_thousands(total))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInfo {
    pub id: i64,
    pub name: String,
    pub color: String,
    /// How many users carry the tag.
    pub users: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: i64,
    pub name: String,
    pub platform: String,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Everything the drawer shows about one user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: i64,
    pub email: String,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub job_title: String,
    pub company: String,
    pub address: String,
    pub language: String,
    pub status: Status,
    pub role: NamedRef,
    pub balance: i64,
    pub email_opt_in: bool,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub email_opt_in_changed_at: Option<DateTime<Utc>>,
    /// Who made the last opt-in change: an admin's email, or "the user" for a signup.
    pub email_opt_in_changed_by: Option<String>,
    pub note: String,
    pub has_password: bool,
    pub must_change_password: bool,
    pub signup_source: String,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub last_access_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub tags: Vec<NamedRef>,
    pub groups: Vec<NamedRef>,
    pub devices: Vec<DeviceInfo>,
    /// Values of custom profile fields, by field key.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, serde_json::Value>,
}

impl UserDetail {
    pub fn display_name(&self) -> String {
        display_name(&self.first_name, &self.last_name, &self.email)
    }
}

/// The signed-in admin, as the page header shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminInfo {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub permissions: Vec<String>,
    /// Signed in with a temporary password: must change it before anything else.
    #[serde(default)]
    pub must_change_password: bool,
}

impl AdminInfo {
    /// Whether the admin's role grants `permission` (what the UI shows; the server
    /// checks again on every call).
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_format_with_grouping_and_sign() {
        let cases = [
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (123456, "1,234.56"),
            (100000000, "1,000,000.00"),
            (-99999, "-999.99"),
            (i64::MIN, "-92,233,720,368,547,758.08"),
        ];
        for (minor, want) in cases {
            assert_eq!(format_balance(minor), want, "{minor}");
        }
    }

    #[test]
    fn thousands_are_grouped() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_000_000, "1,000,000"),
        ] {
            assert_eq!(group_thousands(n), want, "{n}");
        }
    }

    #[test]
    fn display_name_falls_back_to_email() {
        assert_eq!(display_name("Ada", "Lovelace", "a@x.io"), "Ada Lovelace");
        assert_eq!(display_name("", "Lovelace", "a@x.io"), "Lovelace");
        assert_eq!(display_name(" ", "", "a@x.io"), "a@x.io");
    }

    #[test]
    fn page_count_rounds_up_and_is_at_least_one() {
        let page = |total| UserPage {
            rows: vec![],
            total,
            exact: true,
            page: 1,
            per_page: 25,
        };
        assert_eq!(page(0).page_count(), 1);
        assert_eq!(page(25).page_count(), 1);
        assert_eq!(page(26).page_count(), 2);
        assert_eq!(page(1_000_000).page_count(), 40_000);
    }

    #[test]
    fn totals_say_when_counting_stopped() {
        assert_eq!(total_text(1, true), "1 user");
        assert_eq!(total_text(0, true), "0 users");
        assert_eq!(total_text(51_075, true), "51,075 users");
        assert_eq!(total_text(10_000, false), "More than 10,000 users");
    }
}
