//! What the admins' own apps send: activity events (with an API key) and public
//! signups. Also the API keys themselves, the rate limits on both endpoints, and the
//! retention purge of old activity.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit;
use super::auth::{new_token, token_hash};
use super::dialect::Run;
use super::sql::Sql;
use super::{now, ServiceError};
use crate::domain::account::{parse_language, Email, Phone, Username};
use crate::domain::activity::ApiKeyInfo;
use crate::domain::AdminInfo;

/// Most events one request may carry.
pub const MAX_BATCH: usize = 1000;
const MAX_NAME_CHARS: usize = 500;
const MAX_DETAIL_BYTES: usize = 8 * 1024;

/// "3 minutes", "1 minute", "40 seconds".
pub fn wait_text(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} seconds"),
        60..=119 => "1 minute".to_string(),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// Every API key, newest first.
pub async fn list_keys<C: ConnectionTrait>(db: &C) -> Result<Vec<ApiKeyInfo>, ServiceError> {
    let q = Sql::new(
        "SELECT id, name, key_prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id DESC",
    );
    Ok(db
        .all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(ApiKeyInfo {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
                prefix: r.try_get("", "key_prefix")?,
                created_at: r.try_get("", "created_at")?,
                last_used_at: r.try_get("", "last_used_at")?,
                revoked_at: r.try_get("", "revoked_at")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?)
}

/// Creates a key named `name`; returns the key itself, which is stored only hashed
/// and shown this once.
pub async fn create_key(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    name: &str,
) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::field(
            "name",
            "Name the key (1 to 100 characters), e.g. after the app that uses it.",
        ));
    }
    let key = format!("rk_{}", new_token());
    let txn = db.begin().await?;
    let mut s = Sql::new(
        "INSERT INTO api_keys (name, key_prefix, key_hash, created_by, created_at) VALUES (",
    );
    s.bind(name)
        .push(", ")
        .bind(key[..10].to_string())
        .push(", ")
        .bind(token_hash(&key))
        .push(", ")
        .bind(actor.id)
        .push(", ")
        .bind(now())
        .push(")");
    txn.exec(&s).await?;
    audit::record(
        &txn,
        actor,
        "api_key.create",
        None,
        None,
        Some(json!({ "name": name, "prefix": &key[..10] })),
    )
    .await?;
    txn.commit().await?;
    Ok(key)
}

/// Revokes key `id`: requests with it are refused from then on.
pub async fn revoke_key(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
) -> Result<(), ServiceError> {
    let txn = db.begin().await?;
    let mut s = Sql::new("UPDATE api_keys SET revoked_at = ");
    s.bind(now())
        .push(" WHERE revoked_at IS NULL AND id = ")
        .bind(id);
    let n = txn.exec(&s).await?.rows_affected();
    if n == 0 {
        return Err(ServiceError::NotFound("That active API key".into()));
    }
    audit::record(
        &txn,
        actor,
        "api_key.revoke",
        None,
        None,
        Some(json!({ "id": id })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The id of the active key `key`, noting its use; `Unauthorized` otherwise.
pub async fn key_id<C: ConnectionTrait>(db: &C, key: &str) -> Result<i64, ServiceError> {
    let mut q =
        Sql::new("SELECT id, last_used_at FROM api_keys WHERE revoked_at IS NULL AND key_hash = ");
    q.bind(token_hash(key));
    let row = db.one(&q).await?.ok_or(ServiceError::Unauthorized)?;
    let id: i64 = row.try_get("", "id")?;
    let last: Option<chrono::DateTime<chrono::Utc>> = row.try_get("", "last_used_at")?;
    let at = now();
    // At most one write a minute per key.
    if last.is_none_or(|l| at - l >= chrono::Duration::minutes(1)) {
        let mut u = Sql::new("UPDATE api_keys SET last_used_at = ");
        u.bind(at).push(" WHERE id = ").bind(id);
        db.exec(&u).await?;
    }
    Ok(id)
}

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
    let txn = db.begin().await?;
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

/// A public signup, as sent by the admins' own forms.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SignupIn {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_opt_in: Option<bool>,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
}

/// Creates a user with signup source `self_signup` (status invited: they set a
/// password through the invitation). Field errors name the JSON field.
///
/// The answer never tells whether the email (username, phone) is registered: an
/// existing account gives `Ok(None)`, which the endpoint answers exactly like a new one.
/// Past the seat quota every signup is refused alike.
pub async fn signup(
    db: &DatabaseConnection,
    config: &super::Config,
    form: SignupIn,
) -> Result<Option<i64>, ServiceError> {
    let mut errors = crate::domain::FieldErrors::new();
    let mut push = |k: &str, m: String| errors.entry(k.to_string()).or_default().push(m);
    let email = Email::parse(form.email.as_deref().unwrap_or_default())
        .map_err(|e| push("email", e))
        .ok();
    let username = match form
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(u) => Username::parse(u)
            .map(Some)
            .map_err(|e| push("username", e))
            .ok()
            .flatten(),
        None => None,
    };
    let phone = match form
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(p) => Phone::parse(p)
            .map(Some)
            .map_err(|e| push("phone", e))
            .ok()
            .flatten(),
        None => None,
    };
    let language = match form
        .language
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(l) => parse_language(l).map_err(|e| push("language", e)).ok(),
        None => Some("en".to_string()),
    };
    let first = form.first_name.unwrap_or_default().trim().to_string();
    let last = form.last_name.unwrap_or_default().trim().to_string();
    if first.chars().count() > 100 || last.chars().count() > 100 {
        push("first_name", "Names are at most 100 characters.".into());
    }
    let (Some(email), Some(language)) = (email, language) else {
        return Err(ServiceError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let opt_in = form.email_opt_in.unwrap_or(false);
    let txn = db.begin().await?;
    let dialect = txn.dialect();
    if let Some(max) = config.max_users {
        if super::lifecycle::user_total(&txn).await? >= max as i64 {
            return Err(ServiceError::Conflict(SIGNUPS_CLOSED.into()));
        }
    }
    let role = super::roles::role_id(&txn, crate::domain::permissions::DEFAULT_ROLE)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the built-in member role is missing"))?;
    let at = now();
    let mut s = Sql::new(
        "INSERT INTO users (email, username, phone, first_name, last_name, language, status, role_id, \
         email_opt_in, email_opt_in_changed_at, signup_source, created_at, updated_at) VALUES (",
    );
    s.bind(email.as_str())
        .push(", ")
        .bind(username.map(|u| u.as_str().to_string()))
        .push(", ")
        .bind(phone.map(|p| p.as_str().to_string()))
        .push(", ")
        .bind(first)
        .push(", ")
        .bind(last)
        .push(", ")
        .bind(language)
        .push(", 'invited', ")
        .bind(role)
        .push(", ")
        .bind(opt_in)
        .push(", ")
        .bind(at)
        .push(", 'self_signup', ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(") RETURNING id");
    let inserted = match txn.one(&s).await {
        Ok(row) => row,
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let id: i64 = inserted
        .ok_or_else(|| anyhow::anyhow!("insert returned no id"))?
        .try_get("", "id")?;
    let mut a =
        Sql::new("INSERT INTO activities (user_id, at, kind, name, detail, source) VALUES (");
    a.bind(id)
        .push(", ")
        .bind(at)
        .push(", 'custom', 'signup', ")
        .append(&dialect.json_value(Some(json!({ "email_opt_in": opt_in }))))
        .push(", 'signup')");
    txn.exec(&a).await?;
    txn.commit().await?;
    Ok(Some(id))
}

/// The public answer once the seat quota is reached.
pub const SIGNUPS_CLOSED: &str = "Signups are closed for now.";

/// Deletes activity older than `days` days (in chunks, so SQLite writers are never
/// blocked for long). Returns how many entries went.
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
    use std::time::Duration;

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

    #[test]
    fn counters_block_a_caller_until_the_window_ends_and_clear_forgets_them() {
        use crate::backend::throttle::Counter;
        let limiter = Counter::new(2, Duration::from_secs(900), 100);
        let a = limiter.key(&[b"acct:a"]);
        limiter.add(a);
        assert_eq!(limiter.blocked(a), None, "one failure is allowed");
        limiter.add(a);
        let wait = limiter.blocked(a).expect("blocked after two");
        assert!((1..=900).contains(&wait), "{wait}");
        assert_eq!(
            limiter.blocked(limiter.key(&[b"acct:b"])),
            None,
            "others are not blocked"
        );
        limiter.clear(a);
        assert_eq!(limiter.blocked(a), None);
        assert_eq!(wait_text(40), "40 seconds");
        assert_eq!(wait_text(61), "1 minute");
        assert_eq!(wait_text(601), "11 minutes");
    }

    #[test]
    fn the_rate_counter_counts_per_caller_and_window() {
        use crate::backend::throttle::Counter;
        let limiter = Counter::new(2, Duration::from_secs(60), 100);
        let (a, b) = (limiter.key(&[b"a"]), limiter.key(&[b"b"]));
        assert!(limiter.check_and_add(a).is_ok());
        assert!(limiter.check_and_add(a).is_ok());
        let wait = limiter.check_and_add(a).expect_err("third in the window");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            limiter.check_and_add(b).is_ok(),
            "another caller has its own count"
        );
        let fresh = Counter::new(1, Duration::from_millis(0), 100);
        assert!(fresh.check_and_add(a).is_ok());
        assert!(
            fresh.check_and_add(a).is_ok(),
            "a new window starts the count again"
        );
    }
}
