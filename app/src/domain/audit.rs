//! The audit log as the Audit log page shows it: a filter (actor, target, action,
//! days), entries newest first, and the CSV of a filtered log.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Entries per page.
pub const AUDIT_PAGE: u32 = 50;

/// Longest actor, target or action filter kept.
pub const MAX_FILTER_CHARS: usize = 200;

/// What the Audit log page shows, as its URL holds it (and, on the wire, its query
/// string: see [`super::wire`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Part of the acting admin's email.
    pub actor: String,
    /// Part of the target user's email.
    pub target: String,
    /// An action (`user.update`) or its start (`user.`).
    pub action: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The entries of one bulk command ([`AuditRecord::batch_size`]), one by one.
    pub batch: Option<i64>,
    /// 1-based.
    pub page: u32,
}

impl super::wire::QueryString for AuditQuery {
    fn parse_query_string(s: &str) -> Self {
        AuditQuery::from_query_string(s)
    }
    fn query_string(&self) -> String {
        self.to_query_string()
    }
}

impl Serialize for AuditQuery {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::wire::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for AuditQuery {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::wire::deserialize(d)
    }
}

impl AuditQuery {
    pub fn from_query_string(s: &str) -> AuditQuery {
        let mut q = AuditQuery {
            page: 1,
            ..AuditQuery::default()
        };
        for (k, v) in form_urlencoded::parse(s.trim_start_matches('?').as_bytes()) {
            // Cut, then trimmed again: a cut right after a space would leave it, and
            // the URL written from it would read back as another filter.
            let cut: String = v.trim().chars().take(MAX_FILTER_CHARS).collect();
            let v = cut.trim_end().to_string();
            match k.as_ref() {
                "actor" => q.actor = v,
                "target" => q.target = v,
                "action" => q.action = v,
                "from" => q.from = NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok(),
                "to" => q.to = NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok(),
                "page" => q.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                "batch" => q.batch = v.parse().ok().filter(|b| *b >= 1),
                _ => {}
            }
        }
        q
    }

    /// The query string (empty values left out), `from_query_string`'s inverse.
    pub fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("target", &self.target),
            ("action", &self.action),
        ] {
            if !v.is_empty() {
                out.append_pair(k, v);
            }
        }
        if let Some(d) = self.from {
            out.append_pair("from", &d.format("%Y-%m-%d").to_string());
        }
        if let Some(d) = self.to {
            out.append_pair("to", &d.format("%Y-%m-%d").to_string());
        }
        if let Some(b) = self.batch {
            out.append_pair("batch", &b.to_string());
        }
        if self.page > 1 {
            out.append_pair("page", &self.page.to_string());
        }
        out.finish()
    }
}

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub at: DateTime<Utc>,
    pub actor_email: String,
    pub action: String,
    pub target_user_id: Option<i64>,
    pub target_email: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// `before` → `after` in words ([`change_lines`]).
    #[serde(default)]
    pub changes: Vec<ChangeLine>,
    /// The bulk command this entry belongs to, if any.
    #[serde(default)]
    pub batch_id: Option<i64>,
    /// On the one entry the log lists for a bulk command: how many entries (users)
    /// the command wrote; `batch_id` opens them.
    #[serde(default)]
    pub batch_size: Option<u64>,
}

/// A page of the log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditRecord>,
    /// Whether an older page exists.
    pub more: bool,
}

/// The log as CSV (RFC 4180, formula-neutral cells).
pub fn audit_csv(entries: &[AuditRecord]) -> String {
    format!("{AUDIT_CSV_HEADER}{}", audit_csv_lines(entries))
}

/// The audit CSV's header line.
pub const AUDIT_CSV_HEADER: &str = "at,actor,action,target_id,target,before,after\r\n";

/// The audit CSV's lines for these entries, without the header.
pub fn audit_csv_lines(entries: &[AuditRecord]) -> String {
    let mut out = String::new();
    let json =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    for e in entries {
        let cells = [
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.actor_email.clone(),
            e.action.clone(),
            e.target_user_id.map(|i| i.to_string()).unwrap_or_default(),
            e.target_email.clone(),
            json(&e.before),
            json(&e.after),
        ];
        super::transfer::push_csv_line(&mut out, &cells);
    }
    out
}

/// One line of an audit entry in words: "Status: active → banned". `before` is `None`
/// for what was only set, `after` for what was only removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeLine {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Most lines an entry shows in words (a deleted user's snapshot has every field); the
/// raw data behind the disclosure has the rest.
pub const MAX_CHANGE_LINES: usize = 8;

/// Keys that are bookkeeping, not a change an admin reads.
const QUIET_KEYS: [&str; 4] = ["version", "deletion", "undo", "updated_at"];

/// The readable lines of an entry's before and after data: one per field that differs
/// (or is only on one side), by the data's key.
pub fn change_lines(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<ChangeLine> {
    let empty = serde_json::Map::new();
    fn object(
        v: Option<&serde_json::Value>,
    ) -> Option<&serde_json::Map<String, serde_json::Value>> {
        v.and_then(serde_json::Value::as_object)
    }
    let (b, a) = (object(before), object(after));
    if b.is_none() && a.is_none() {
        // Not field data (or nothing): one line with the value itself.
        return match (before, after) {
            (None, None) => Vec::new(),
            _ => vec![ChangeLine {
                field: String::new(),
                before: before.map(value_text),
                after: after.map(value_text),
            }],
        };
    }
    let (b, a) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
    let keys = a
        .keys()
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .filter(|k| !QUIET_KEYS.contains(&k.as_str()));
    keys.filter(|k| a.get(*k) != b.get(*k))
        .map(|k| ChangeLine {
            field: field_label(k),
            before: b.get(k).map(value_text),
            after: a.get(k).map(value_text),
        })
        .collect()
}

/// "first_name" → "First name"; known keys get their form label.
pub fn field_label(key: &str) -> String {
    match key {
        "role_id" => "Role".into(),
        "email_opt_in" => "Email opt-in".into(),
        "must_change_password" => "Must change password".into(),
        "last_access_at" => "Last access".into(),
        "created_at" => "Created".into(),
        "attributes" => "Profile fields".into(),
        _ => {
            let words = key.replace('_', " ");
            let mut chars = words.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

fn value_text(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "(none)".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "(none)".into(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(m) if m.is_empty() => "(none)".into(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{}: {}", field_label(k), value_text(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the query_string fuzz target (as the users page's search was).
    #[test]
    fn a_filter_cut_to_length_reads_back_the_same() {
        let long = format!("{} tail", "b".repeat(MAX_FILTER_CHARS - 1));
        let q = AuditQuery::from_query_string(&format!("target={long}"));
        assert_eq!(q.target, "b".repeat(MAX_FILTER_CHARS - 1));
        assert_eq!(AuditQuery::from_query_string(&q.to_query_string()), q);
    }

    #[test]
    fn the_query_string_round_trips() {
        let q = AuditQuery {
            actor: "ann@x.io".into(),
            target: "bob".into(),
            action: "user.".into(),
            from: NaiveDate::from_ymd_opt(2026, 1, 2),
            to: NaiveDate::from_ymd_opt(2026, 2, 3),
            batch: Some(12),
            page: 3,
        };
        assert_eq!(AuditQuery::from_query_string(&q.to_query_string()), q);
        assert_eq!(AuditQuery::from_query_string("").page, 1);
        assert_eq!(
            AuditQuery::from_query_string("from=nope&page=0&batch=0"),
            AuditQuery {
                page: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn the_csv_neutralises_and_quotes() {
        let e = AuditRecord {
            id: 1,
            at: "2026-01-02T03:04:05Z".parse().unwrap(),
            actor_email: "=cmd@x.io".into(),
            action: "user.update".into(),
            target_user_id: Some(7),
            target_email: "bob@x.io".into(),
            before: Some(serde_json::json!({ "first_name": "Bob" })),
            after: None,
            changes: Vec::new(),
            batch_id: None,
            batch_size: None,
        };
        let csv = audit_csv(&[e]);
        let line = csv.lines().nth(1).unwrap();
        assert_eq!(line, "2026-01-02T03:04:05Z,'=cmd@x.io,user.update,7,bob@x.io,\"{\"\"first_name\"\":\"\"Bob\"\"}\",");
    }

    #[test]
    fn changes_read_as_field_before_and_after() {
        use serde_json::json;
        let line = |field: &str, before: Option<&str>, after: Option<&str>| ChangeLine {
            field: field.into(),
            before: before.map(String::from),
            after: after.map(String::from),
        };
        // Only what differs, bookkeeping left out.
        assert_eq!(
            change_lines(
                Some(&json!({ "status": "active", "first_name": "Ann", "version": 3 })),
                Some(&json!({ "status": "banned", "first_name": "Ann", "version": 4 })),
            ),
            [line("Status", Some("active"), Some("banned"))]
        );
        // Lists as names, empty as "(none)", booleans in words, null as "(none)".
        assert_eq!(
            change_lines(
                Some(&json!({ "groups": [], "email_opt_in": false, "phone": null })),
                Some(
                    &json!({ "groups": ["Beta testers", "Sales"], "email_opt_in": true, "phone": "+4670" })
                ),
            ),
            [
                line("Email opt-in", Some("no"), Some("yes")),
                line("Groups", Some("(none)"), Some("Beta testers, Sales")),
                line("Phone", Some("(none)"), Some("+4670")),
            ]
        );
        // Only set, or only removed.
        assert_eq!(
            change_lines(None, Some(&json!({ "tags": "vip", "undo": 4 }))),
            [line("Tags", None, Some("vip"))]
        );
        assert_eq!(
            change_lines(Some(&json!({ "job_title": "" })), None),
            [line("Job title", Some("(empty)"), None)]
        );
        // Not an object: the value itself.
        assert_eq!(
            change_lines(None, Some(&json!("reset link sent"))),
            [line("", None, Some("reset link sent"))]
        );
        assert!(change_lines(None, None).is_empty());
        assert_eq!(
            change_lines(None, Some(&json!({ "attributes": { "plan": "Pro" } }))),
            [line("Profile fields", None, Some("Plan: Pro"))]
        );
    }
}
