//! The activity ingest API (`POST /api/v1/events`): events checked one by one with
//! stable codes, written in one transaction; old activity purged.

use std::collections::HashMap;

use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::dialect::Run;
use super::entities::activity;
use super::sql::Sql;
use super::{now, ServiceError};

/// Most events one request may carry.
pub const MAX_BATCH: usize = 1000;
const MAX_NAME_CHARS: usize = 500;
const MAX_DETAIL_BYTES: usize = 8 * 1024;

/// Who an event is about: a user id, or an email or username.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    Id(i64),
    Text(String),
}

/// One reported event, as sent.
#[derive(Clone, Debug, Deserialize)]
pub struct EventIn {
    pub user: Option<UserRef>,
    pub kind: Option<String>,
    pub name: Option<String>,
    /// RFC 3339; defaults to the time of the request.
    pub at: Option<String>,
    pub detail: Option<serde_json::Value>,
}

/// Why one event was not stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub index: usize,
    /// Stable: `unknown_user`, `invalid_user`, `invalid_kind`, `invalid_name`,
    /// `invalid_at`, `invalid_detail`.
    pub code: &'static str,
    pub message: String,
}

/// What became of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    pub accepted: usize,
    pub rejected: Vec<Rejected>,
}

struct Checked {
    index: usize,
    user: UserRef,
    kind: &'static str,
    name: String,
    at: chrono::DateTime<chrono::Utc>,
    detail: String,
}

fn check(
    index: usize,
    e: EventIn,
    received: chrono::DateTime<chrono::Utc>,
) -> Result<Checked, Rejected> {
    let reject = |code, message: String| Rejected {
        index,
        code,
        message,
    };
    let user = match e.user {
        Some(UserRef::Text(t)) if t.trim().is_empty() => None,
        Some(u) => Some(u),
        None => None,
    }
    .ok_or_else(|| {
        reject(
            "invalid_user",
            "\"user\" is required: a user id, email or username.".into(),
        )
    })?;
    let kind = match e.kind.as_deref() {
        Some("page_view") => "page_view",
        Some("feature") => "feature",
        Some("custom") => "custom",
        other => {
            return Err(reject(
                "invalid_kind",
                format!("\"kind\" must be page_view, feature or custom, not {other:?}."),
            ))
        }
    };
    let name = e.name.unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(reject(
            "invalid_name",
            format!("\"name\" is required (at most {MAX_NAME_CHARS} characters)."),
        ));
    }
    let at = match e.at {
        None => received,
        Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| {
                reject(
                    "invalid_at",
                    format!("\"at\" must be an RFC 3339 time, not {s:?}."),
                )
            })?,
    };
    if at > received + chrono::Duration::minutes(5) {
        return Err(reject("invalid_at", "\"at\" is in the future.".into()));
    }
    use chrono::SubsecRound;
    let at = at.trunc_subsecs(0);
    let detail = match e.detail {
        None | Some(serde_json::Value::Null) => "{}".to_string(),
        Some(v @ serde_json::Value::Object(_)) => v.to_string(),
        Some(_) => {
            return Err(reject(
                "invalid_detail",
                "\"detail\" must be a JSON object.".into(),
            ))
        }
    };
    if detail.len() > MAX_DETAIL_BYTES {
        return Err(reject(
            "invalid_detail",
            format!("\"detail\" is larger than {MAX_DETAIL_BYTES} bytes."),
        ));
    }
    Ok(Checked {
        index,
        user,
        kind,
        name,
        at,
        detail,
    })
}

/// Stores a batch of events from key `key_id` in one transaction: every valid event
/// about a known user is kept, the others are reported by index. Users' last access
/// moves forward to their newest event.
pub async fn ingest(
    db: &DatabaseConnection,
    key_id: i64,
    events: Vec<EventIn>,
) -> Result<IngestReport, ServiceError> {
    if events.len() > MAX_BATCH {
        return Err(ServiceError::field(
            "events",
            format!("Send at most {MAX_BATCH} events at once."),
        ));
    }
    let received = now();
    let mut rejected = Vec::new();
    let mut good = Vec::new();
    for (i, e) in events.into_iter().enumerate() {
        match check(i, e, received) {
            Ok(c) => good.push(c),
            Err(r) => rejected.push(r),
        }
    }
    let txn = crate::backend::db::begin_write(db).await?;
    let dialect = txn.dialect();
    // Resolve users: ids, emails and usernames, one query each.
    let mut ids = Vec::new();
    let mut emails = Vec::new();
    let mut names = Vec::new();
    for c in &good {
        match &c.user {
            UserRef::Id(id) => ids.push(*id),
            UserRef::Text(t) if t.trim().chars().all(|ch| ch.is_ascii_digit()) => {
                ids.push(t.trim().parse().unwrap_or(-1))
            }
            UserRef::Text(t) if t.contains('@') => emails.push(t.trim().to_lowercase()),
            UserRef::Text(t) => names.push(t.trim().to_lowercase()),
        }
    }
    let mut known: HashMap<String, i64> = HashMap::new();
    for (column, key, values) in [
        (
            "id",
            "id",
            ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        ),
        ("email", "email", emails),
        ("lower(username)", "name", names),
    ] {
        let mut values = values;
        values.sort();
        values.dedup();
        for chunk in values.chunks(500) {
            let mut q = Sql::new(&format!(
                "SELECT id, {column} AS k FROM users WHERE {column} IN ("
            ));
            if key == "id" {
                q.bind_list(chunk.iter().map(|v| v.parse::<i64>().unwrap_or(-1)));
            } else {
                q.bind_list(chunk.iter().cloned());
            }
            q.push(")");
            for r in txn.all(&q).await? {
                let id: i64 = r.try_get("", "id")?;
                let k = if key == "id" {
                    id.to_string()
                } else {
                    r.try_get::<String>("", "k")?
                };
                known.insert(format!("{key}:{k}"), id);
            }
        }
    }
    let lookup = |u: &UserRef| -> Option<i64> {
        match u {
            UserRef::Id(id) => known.get(&format!("id:{id}")).copied(),
            UserRef::Text(t) => {
                let t = t.trim();
                if t.chars().all(|c| c.is_ascii_digit()) {
                    known.get(&format!("id:{t}")).copied()
                } else if t.contains('@') {
                    known.get(&format!("email:{}", t.to_lowercase())).copied()
                } else {
                    known.get(&format!("name:{}", t.to_lowercase())).copied()
                }
            }
        }
    };
    let mut rows = Vec::new();
    for c in good {
        match lookup(&c.user) {
            Some(id) => rows.push((id, c)),
            None => rejected.push(Rejected {
                index: c.index,
                code: "unknown_user",
                message: "No user has this id, email or username.".into(),
            }),
        }
    }
    let source = format!("api key {key_id}");
    for chunk in rows.chunks(400) {
        let mut s =
            Sql::new("INSERT INTO activities (user_id, at, kind, name, detail, source) VALUES ");
        for (i, (user_id, c)) in chunk.iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" })
                .bind(*user_id)
                .push(", ")
                .bind(c.at)
                .push(", ")
                .bind(c.kind)
                .push(", ")
                .bind(c.name.as_str())
                .push(", ")
                .append(
                    &dialect.json_value(Some(serde_json::from_str(&c.detail).unwrap_or(json!({})))),
                )
                .push(", ")
                .bind(source.as_str())
                .push(")");
        }
        txn.exec(&s).await?;
    }
    let mut newest: HashMap<i64, chrono::DateTime<chrono::Utc>> = HashMap::new();
    for (id, c) in &rows {
        let e = newest.entry(*id).or_insert(c.at);
        if c.at > *e {
            *e = c.at;
        }
    }
    for (id, at) in newest {
        let mut u = Sql::new("UPDATE users SET last_access_at = ");
        u.bind(at)
            .push(" WHERE id = ")
            .bind(id)
            .push(" AND (last_access_at IS NULL OR last_access_at < ")
            .bind(at)
            .push(")");
        txn.exec(&u).await?;
    }
    txn.commit().await?;
    rejected.sort_by_key(|r| r.index);
    Ok(IngestReport {
        accepted: rows.len(),
        rejected,
    })
}

/// Deletes activity older than `days` days (in chunks, so SQLite writers are never
/// blocked for long). Returns how many entries went.
/// One entry of a user's timeline, written as part of a command (a sign-in, a signup,
/// a note added by hand); bulk ingest writes many rows at once instead.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    at: chrono::DateTime<chrono::Utc>,
    kind: &str,
    name: &str,
    detail: serde_json::Value,
    source: &str,
) -> Result<(), ServiceError> {
    let entry = activity::ActiveModel {
        user_id: Set(user_id),
        at: Set(at),
        kind: Set(kind.into()),
        name: Set(name.into()),
        detail: Set(detail),
        source: Set(source.into()),
        ..Default::default()
    };
    activity::Entity::insert(entry)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn purge_old_activity(db: &DatabaseConnection, days: i64) -> Result<u64, ServiceError> {
    let cutoff = now() - chrono::Duration::days(days);
    let mut total = 0;
    loop {
        let mut s =
            Sql::new("DELETE FROM activities WHERE id IN (SELECT id FROM activities WHERE at < ");
        s.bind(cutoff).push(" LIMIT 5000)");
        let n = db.exec(&s).await?.rows_affected();
        total += n;
        if n < 5000 {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(v: serde_json::Value) -> EventIn {
        serde_json::from_value(v).expect("event")
    }

    #[test]
    fn events_are_checked_one_by_one_with_stable_codes() {
        let now: chrono::DateTime<chrono::Utc> = "2026-01-01T12:00:00Z".parse().expect("time");
        let cases = [
            (json!({"user": 1, "kind": "page_view", "name": "/"}), None),
            (
                json!({"user": "a@x.io", "kind": "custom", "name": "x", "detail": {"a": 1}}),
                None,
            ),
            (
                json!({"kind": "page_view", "name": "/"}),
                Some("invalid_user"),
            ),
            (
                json!({"user": 1, "kind": "sign_in", "name": "/"}),
                Some("invalid_kind"),
            ),
            (
                json!({"user": 1, "kind": "feature", "name": " "}),
                Some("invalid_name"),
            ),
            (
                json!({"user": 1, "kind": "feature", "name": "x", "at": "yesterday"}),
                Some("invalid_at"),
            ),
            (
                json!({"user": 1, "kind": "feature", "name": "x", "at": "2026-01-02T00:00:00Z"}),
                Some("invalid_at"),
            ),
            (
                json!({"user": 1, "kind": "feature", "name": "x", "detail": [1]}),
                Some("invalid_detail"),
            ),
        ];
        for (i, (input, want)) in cases.into_iter().enumerate() {
            let got = check(i, event(input.clone()), now).err().map(|r| r.code);
            assert_eq!(got, want, "{input}");
        }
    }
}
