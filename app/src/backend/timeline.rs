//! The activity timeline of one user: `activities` (pages, features, sign-ins, notes
//! added by hand) merged with the audit log's entries about the user, newest first.

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use serde_json::json;

use super::dialect::{Dialect, Run};
use super::sql::Sql;
use super::user_rows::{delete_owned_row, OwnedRow};
use super::users::user_email;
use super::{audit, events, now, ServiceError};
use crate::domain::activity::{ActivityKind, TimelineEntry, TimelinePage, MAX_ENTRY_CHARS};
use crate::domain::AdminInfo;

/// One page of user `user_id`'s timeline, newest first, limited to `kinds` (all when
/// empty). `offset` counts entries already shown.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    kinds: &[ActivityKind],
    offset: u64,
    limit: u32,
    with_audit: bool,
) -> Result<TimelinePage, ServiceError> {
    user_email(db, user_id).await?;
    let dialect = db.dialect();
    let take = Some(offset + u64::from(limit) + 1);
    let mut q = stream_sql(dialect, user_id, kinds, take, with_audit);
    q.push(" ORDER BY at DESC, src DESC, id DESC LIMIT ")
        .bind(i64::from(limit) + 1)
        .push(" OFFSET ")
        .bind(offset as i64);
    let mut entries = db
        .all(&q)
        .await?
        .iter()
        .map(entry_from)
        .collect::<Result<Vec<_>, _>>()?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    Ok(TimelinePage { entries, more })
}

/// Every entry of the timeline (for the CSV download), newest first.
pub async fn all<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    with_audit: bool,
) -> Result<Vec<TimelineEntry>, ServiceError> {
    user_email(db, user_id).await?;
    let dialect = db.dialect();
    let mut q = stream_sql(dialect, user_id, &[], None, with_audit);
    q.push(" ORDER BY at DESC, src DESC, id DESC");
    db.all(&q).await?.iter().map(entry_from).collect()
}

/// `SELECT src, id, at, kind, name, detail, source FROM (activities ∪ audit log)`.
///
/// With `take`, each source is cut to its newest `take` rows first (through the
/// `(user_id, at)` indexes), so the first page never sorts a user's whole history.
/// The audit log's entries come only `with_audit` (for admins who hold `audit.read`).
fn stream_sql(
    dialect: Dialect,
    user_id: i64,
    kinds: &[ActivityKind],
    take: Option<u64>,
    with_audit: bool,
) -> Sql {
    let text = |col: &str| dialect.text_or_empty(col);
    let wants = |k: ActivityKind| kinds.is_empty() || kinds.contains(&k);
    let own: Vec<&str> = ActivityKind::ALL
        .into_iter()
        .filter(|k| *k != ActivityKind::AdminChange && wants(*k))
        .map(ActivityKind::as_str)
        .collect();
    let mut parts = Vec::new();
    if !own.is_empty() {
        let mut a = Sql::new(&format!(
            "SELECT 'a' AS src, id, at, kind, name, {} AS detail, '' AS before, source FROM activities WHERE user_id = ",
            text("detail")
        ));
        a.bind(user_id);
        if own.len() < ActivityKind::ALL.len() - 1 {
            a.push(" AND kind IN (").bind_list(own).push(")");
        }
        parts.push(a);
    }
    if with_audit && wants(ActivityKind::AdminChange) {
        let mut l = Sql::new(&format!(
            "SELECT 'l' AS src, id, at, 'admin_change' AS kind, action AS name, {} AS detail, {} AS before, \
             actor_email AS source FROM audit_log WHERE target_user_id = ",
            text("after"),
            text("before")
        ));
        // A note added by hand is its own record; its audit entry would repeat it.
        l.bind(user_id).push(" AND action <> 'activity.add'");
        parts.push(l);
    }
    let mut s = Sql::new("SELECT * FROM (");
    if parts.is_empty() {
        s.push("SELECT 'a' AS src, id, at, kind, name, '' AS detail, '' AS before, source FROM activities WHERE 1 = 0");
    }
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push(" UNION ALL ");
        }
        match take {
            Some(n) => {
                s.push("SELECT * FROM (").append(p);
                s.push(" ORDER BY at DESC, id DESC LIMIT ")
                    .bind(n as i64)
                    .push(&format!(") AS part{i}"));
            }
            None => {
                s.append(p);
            }
        }
    }
    s.push(") AS stream");
    s
}

fn entry_from(r: &QueryResult) -> Result<TimelineEntry, ServiceError> {
    let src: String = r.try_get("", "src")?;
    let id: i64 = r.try_get("", "id")?;
    let kind: String = r.try_get("", "kind")?;
    let kind = ActivityKind::parse(&kind)
        .ok_or_else(|| anyhow::anyhow!("unknown activity kind {kind:?}"))?;
    let detail: String = r.try_get("", "detail")?;
    let changes = if src == "l" {
        let before: String = r.try_get("", "before")?;
        let json = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
        crate::domain::audit::change_lines(json(&before).as_ref(), json(&detail).as_ref())
    } else {
        Vec::new()
    };
    Ok(TimelineEntry {
        changes,
        key: format!("{src}{id}"),
        at: r.try_get("", "at")?,
        kind,
        name: r.try_get("", "name")?,
        detail: if detail == "{}" {
            String::new()
        } else {
            detail
        },
        source: r.try_get("", "source")?,
        deletable: src == "a",
    })
}

/// Adds a note by hand to user `user_id`'s timeline, at `at` (default: now).
pub async fn add_manual(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    user_id: i64,
    text: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ServiceError::field("entry", "Write what happened."));
    }
    if text.chars().count() > MAX_ENTRY_CHARS {
        return Err(ServiceError::field(
            "entry",
            format!("Use at most {MAX_ENTRY_CHARS} characters."),
        ));
    }
    let at = at.unwrap_or_else(now);
    if at > now() + chrono::Duration::minutes(5) {
        return Err(ServiceError::field(
            "at",
            "The time cannot be in the future.",
        ));
    }
    audit::command(db, actor, async |txn| {
        let email = user_email(txn, user_id).await?;
        events::record(txn, user_id, at, "manual", text, json!({}), &actor.email).await?;
        let entry = audit::Entry::new(
            "activity.add",
            Some((user_id, &email)),
            None,
            Some(json!({ "entry": text })),
        );
        Ok(((), entry))
    })
    .await
}

/// Deletes an activity entry (not an audit entry) of user `user_id`; audited.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    user_id: i64,
    activity_id: i64,
) -> Result<(), ServiceError> {
    let row = OwnedRow {
        table: "activities",
        columns: ["kind", "name"],
        what: "That timeline entry",
        action: "activity.delete",
    };
    delete_owned_row(db, actor, user_id, activity_id, row).await
}
