//! The activity timeline of one user: what they did (pages, features, sign-ins), what
//! admins did to them (the audit log) and entries added by hand, as one stream.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Entries per timeline page.
pub const TIMELINE_PAGE: u32 = 50;
/// Longest manual entry.
pub const MAX_ENTRY_CHARS: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ActivityKind {
    PageView,
    Feature,
    SignIn,
    AdminChange,
    Manual,
    /// Anything else an app reports (`kind: "custom"`).
    Custom,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 6] = [
        ActivityKind::PageView,
        ActivityKind::Feature,
        ActivityKind::SignIn,
        ActivityKind::AdminChange,
        ActivityKind::Manual,
        ActivityKind::Custom,
    ];

    /// The stored name (`activities.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::PageView => "page_view",
            ActivityKind::Feature => "feature",
            ActivityKind::SignIn => "sign_in",
            ActivityKind::AdminChange => "admin_change",
            ActivityKind::Manual => "manual",
            ActivityKind::Custom => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActivityKind::PageView => "Pages",
            ActivityKind::Feature => "Features",
            ActivityKind::SignIn => "Sign-ins",
            ActivityKind::AdminChange => "Admin changes",
            ActivityKind::Manual => "Notes",
            ActivityKind::Custom => "Other events",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// `a<id>` for an activity, `l<id>` for an audit log entry.
    pub key: String,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub at: DateTime<Utc>,
    pub kind: ActivityKind,
    /// Page path, feature name, audit action, or the note's text.
    pub name: String,
    /// Extra detail as text (JSON for reported events, "by <admin>" for changes).
    pub detail: String,
    /// Where it came from: an app's name, "admin", "api" ...
    pub source: String,
    /// Manual entries and reported events can be deleted; the audit log cannot.
    pub deletable: bool,
    /// An admin change in words, from its audit entry's before and after.
    #[serde(default)]
    pub changes: Vec<super::audit::ChangeLine>,
}

/// A page of the timeline, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    /// Whether older entries exist.
    pub more: bool,
}

/// One CSV line per entry, with a header; cells neutralised like every export.
pub fn timeline_csv(entries: &[TimelineEntry]) -> String {
    let mut out = String::from("at,kind,name,detail,source\r\n");
    for e in entries {
        let cells = [
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.kind.as_str().to_string(),
            e.name.clone(),
            e.detail.clone(),
            e.source.clone(),
        ];
        super::transfer::push_csv_line(&mut out, &cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(k.as_str()), Some(k), "{k:?}");
        }
        assert_eq!(ActivityKind::parse("signup"), None);
    }

    #[test]
    fn the_timeline_csv_quotes_and_neutralises() {
        let entry = TimelineEntry {
            key: "a1".into(),
            at: "2026-01-02T03:04:05Z".parse().expect("time"),
            kind: ActivityKind::Manual,
            name: "Called, left a message".into(),
            detail: "=HYPERLINK(\"x\")".into(),
            source: "admin".into(),
            deletable: true,
            changes: Vec::new(),
        };
        let csv = timeline_csv(&[entry]);
        assert_eq!(
            csv,
            "at,kind,name,detail,source\r\n2026-01-02T03:04:05Z,manual,\"Called, left a message\",\"'=HYPERLINK(\"\"x\"\")\",admin\r\n"
        );
    }
}

/// An API key as the Settings page lists it (the key itself is never shown again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::FromQueryResult))]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A reminder on a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::FromQueryResult))]
pub struct ReminderInfo {
    pub id: i64,
    pub user_id: i64,
    /// The user's display name (for the Reminders view).
    pub user_name: String,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub due_at: DateTime<Utc>,
    pub body: String,
    pub done: bool,
    pub author: String,
}
