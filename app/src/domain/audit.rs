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
            page: 3,
        };
        assert_eq!(AuditQuery::from_query_string(&q.to_query_string()), q);
        assert_eq!(AuditQuery::from_query_string("").page, 1);
        assert_eq!(
            AuditQuery::from_query_string("from=nope&page=0"),
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
        };
        let csv = audit_csv(&[e]);
        let line = csv.lines().nth(1).unwrap();
        assert_eq!(line, "2026-01-02T03:04:05Z,'=cmd@x.io,user.update,7,bob@x.io,\"{\"\"first_name\"\":\"\"Bob\"\"}\",");
    }
}
