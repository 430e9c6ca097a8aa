//! The audit log: who did what to whom, with the values before and after. Every
//! command writes its entries inside its own transaction, so a rolled-back command
//! leaves no entry and an applied one always has its entry.

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};

use super::dialect::Run;
use super::sql::Sql;
use super::{now, ServiceError};
use crate::domain::AdminInfo;

/// `INSERT INTO audit_log (...) SELECT <at>, <actor>, <action>, ` — the caller adds
/// the target id, target email, before and after (and a FROM clause if it has one).
pub fn insert_head(actor: &AdminInfo, action: &str) -> Sql {
    insert_head_in(actor, action, None)
}

/// [`insert_head`] for an entry of bulk command `batch` ([`open_batch`]).
fn insert_head_in(actor: &AdminInfo, action: &str, batch: Option<i64>) -> Sql {
    let mut s = Sql::new(
        "INSERT INTO audit_log (at, actor_id, actor_email, action, batch_id, target_user_id, target_email, before, after) SELECT ",
    );
    s.bind(now())
        .push(", ")
        .bind(actor.id)
        .push(", ")
        .bind(actor.email.as_str())
        .push(", ")
        .bind(action)
        .push(", ")
        .bind(batch)
        .push(", ");
    s
}

/// Opens a batch for the per-user entries of one bulk command: the log lists them as
/// one entry ([`close_batch`] gives it its size).
pub async fn open_batch<C: ConnectionTrait>(db: &C) -> Result<i64, ServiceError> {
    let mut s = Sql::new("INSERT INTO audit_batches (created_at) VALUES (");
    s.bind(now()).push(") RETURNING id");
    super::db::inserted_id(db, &s, "audit batch").await
}

/// Marks the first entry of `batch` as the one the log lists, with `size`, the number
/// of entries the command wrote (in the command's transaction, after its last entry).
pub async fn close_batch<C: ConnectionTrait>(
    db: &C,
    batch: i64,
    size: u64,
) -> Result<(), ServiceError> {
    let mut s = Sql::new("UPDATE audit_log SET batch_size = ");
    s.bind(size as i64).push(&format!(
        " WHERE id = (SELECT min(f.id) FROM audit_log f WHERE f.batch_id = {batch})"
    ));
    db.exec(&s).await?;
    Ok(())
}

/// What an audited command leaves in the log: its action, the user it concerns, and
/// the values before and after.
#[derive(Clone, Debug)]
pub struct Entry {
    pub action: &'static str,
    /// The target user's id and email.
    pub target: Option<(i64, String)>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// An entry is the one entry of its command.
impl IntoIterator for Entry {
    type Item = Entry;
    type IntoIter = std::iter::Once<Entry>;

    fn into_iter(self) -> Self::IntoIter {
        std::iter::once(self)
    }
}

impl Entry {
    /// The entry [`record`] would write from these arguments.
    pub fn new(
        action: &'static str,
        target: Option<(i64, &str)>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Self {
        Entry {
            action,
            target: target.map(|(id, email)| (id, email.to_string())),
            before,
            after,
        }
    }

    /// An entry about user `id` (`email`).
    pub fn on(action: &'static str, id: i64, email: &str) -> Self {
        Entry {
            action,
            target: Some((id, email.to_string())),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: serde_json::Value) -> Self {
        self.before = Some(value);
        self
    }

    pub fn after(mut self, value: serde_json::Value) -> Self {
        self.after = Some(value);
        self
    }
}

/// The shape of an audited command: one transaction in which `command` makes its
/// checks and writes and returns its result with the entries it leaves (an [`Entry`],
/// `None` when it changed nothing, or one per user), then the entries, then the
/// commit. An error anywhere writes nothing, entries included.
pub async fn command<T, E: IntoIterator<Item = Entry>>(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    command: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, E), ServiceError>,
) -> Result<T, ServiceError> {
    let txn = crate::backend::db::begin_write(db).await?;
    let (value, entries) = command(&txn).await?;
    // A command that changed nothing leaves no entry; one on many users, one each.
    for entry in entries {
        let target = entry
            .target
            .as_ref()
            .map(|(id, email)| (*id, email.as_str()));
        record(&txn, actor, entry.action, target, entry.before, entry.after).await?;
    }
    txn.commit().await?;
    Ok(value)
}

/// Writes one audit entry.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &AdminInfo,
    action: &str,
    target: Option<(i64, &str)>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), ServiceError> {
    let dialect = db.dialect();
    let (target_id, target_email) = match target {
        Some((id, email)) => (Some(id), email.to_string()),
        None => (None, String::new()),
    };
    let mut s = insert_head(actor, action);
    s.bind(target_id)
        .push(", ")
        .bind(target_email)
        .push(", ")
        .append(&dialect.json_value(before))
        .push(", ")
        .append(&dialect.json_value(after));
    db.exec(&s).await?;
    Ok(())
}

/// One audit entry per user in `ids_sql` (a `SELECT id` subquery), written in one
/// statement: `before_expr` is SQL over the `users` row (evaluated before the change),
/// `after` a constant.
pub async fn record_each<C: ConnectionTrait>(
    db: &C,
    actor: &AdminInfo,
    action: &str,
    ids_sql: &str,
    before_expr: Option<&str>,
    after: Option<serde_json::Value>,
) -> Result<u64, ServiceError> {
    record_each_in(db, actor, action, ids_sql, before_expr, after, None).await
}

/// [`record_each`], the entries belonging to bulk command `batch` when given.
pub async fn record_each_in<C: ConnectionTrait>(
    db: &C,
    actor: &AdminInfo,
    action: &str,
    ids_sql: &str,
    before_expr: Option<&str>,
    after: Option<serde_json::Value>,
    batch: Option<i64>,
) -> Result<u64, ServiceError> {
    let dialect = db.dialect();
    let mut s = insert_head_in(actor, action, batch);
    s.push(&format!(
        "users.id, users.email, {}, ",
        before_expr.unwrap_or("NULL")
    ))
    .append(&dialect.json_value(after))
    .push(&format!(" FROM users WHERE users.id IN ({ids_sql})"));
    Ok(db.exec(&s).await?.rows_affected())
}

/// `WHERE ...` for an audit filter (on `audit_log`).
fn filter_sql(q: &crate::domain::audit::AuditQuery) -> Sql {
    let mut s = Sql::new(" WHERE 1 = 1");
    let like = |v: &str| {
        let mut p = String::from("%");
        for c in v.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        p
    };
    if !q.actor.is_empty() {
        s.push(" AND lower(actor_email) LIKE ")
            .bind(like(&q.actor))
            .push(" ESCAPE '\\'");
    }
    if !q.target.is_empty() {
        s.push(" AND lower(target_email) LIKE ")
            .bind(like(&q.target))
            .push(" ESCAPE '\\'");
    }
    if !q.action.is_empty() {
        if q.action.ends_with('.') {
            s.push(" AND action LIKE ").bind(format!("{}%", q.action));
        } else {
            s.push(" AND action = ").bind(q.action.clone());
        }
    }
    if let Some(from) = q.from {
        s.push(" AND at >= ")
            .bind(from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    if let Some(to) = q.to {
        let next = to.succ_opt().unwrap_or(to);
        s.push(" AND at < ")
            .bind(next.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    if let Some(batch) = q.batch {
        s.push(" AND batch_id = ").bind(batch);
    }
    s
}

fn record_from(
    r: &sea_orm::QueryResult,
) -> Result<crate::domain::audit::AuditRecord, ServiceError> {
    let json = |c: &str| -> Result<Option<serde_json::Value>, ServiceError> {
        Ok(r.try_get::<Option<String>>("", c)?
            .and_then(|t| serde_json::from_str(&t).ok()))
    };
    let (before, after) = (json("before")?, json("after")?);
    let batch_size: Option<i64> = r.try_get("", "batch_size")?;
    let batch_size = batch_size.map(|n| n as u64).filter(|n| *n > 1);
    let changes = crate::domain::audit::change_lines(before.as_ref(), after.as_ref());
    Ok(crate::domain::audit::AuditRecord {
        changes,
        batch_id: r.try_get("", "batch_id")?,
        batch_size,
        id: r.try_get("", "id")?,
        at: r.try_get("", "at")?,
        actor_email: r.try_get("", "actor_email")?,
        action: r.try_get("", "action")?,
        target_user_id: r.try_get("", "target_user_id")?,
        target_email: r.try_get("", "target_email")?,
        before,
        after,
    })
}

const LIST_COLUMNS: &str = "SELECT id, at, actor_email, action, target_user_id, target_email, \
    CAST(before AS TEXT) AS before, CAST(after AS TEXT) AS after, batch_id, batch_size FROM audit_log";

/// One page of the log, newest first.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    q: &crate::domain::audit::AuditQuery,
) -> Result<crate::domain::audit::AuditPage, ServiceError> {
    use crate::domain::audit::AUDIT_PAGE;
    let mut s = Sql::new(LIST_COLUMNS);
    s.append(&filter_sql(q));
    // A bulk command once (its first entry), unless a target or the command itself
    // is asked for: then its entries one by one.
    let grouped = q.batch.is_none() && q.target.is_empty();
    if grouped {
        // Word for word the condition of `audit_log_listed_idx` (migration 000013).
        s.push(" AND (batch_id IS NULL OR batch_size IS NOT NULL)");
    }
    s.push(" ORDER BY at DESC, id DESC LIMIT ")
        .bind(i64::from(AUDIT_PAGE) + 1)
        .push(" OFFSET ")
        .bind(i64::from(q.page.max(1) - 1) * i64::from(AUDIT_PAGE));
    let mut entries = db
        .all(&s)
        .await?
        .iter()
        .map(record_from)
        .collect::<Result<Vec<_>, _>>()?;
    let more = entries.len() > AUDIT_PAGE as usize;
    entries.truncate(AUDIT_PAGE as usize);
    for e in &mut entries {
        if !grouped {
            // Entries one by one: none stands for its command.
            e.batch_size = None;
        } else if e.batch_size.is_some() {
            // A command listed once shows what it set; each user's `before` is on
            // their own entry (`?batch=`), not under the command.
            e.before = None;
            e.changes = crate::domain::audit::change_lines(None, e.after.as_ref());
        }
    }
    Ok(crate::domain::audit::AuditPage { entries, more })
}

/// The next `limit` entries the filter matches after `after` (the last entry already
/// read, by `(at, id)`), newest first: the audit CSV streams the log chunk by chunk.
pub async fn chunk_after<C: ConnectionTrait>(
    db: &C,
    q: &crate::domain::audit::AuditQuery,
    after: Option<(chrono::DateTime<chrono::Utc>, i64)>,
    limit: i64,
) -> Result<Vec<crate::domain::audit::AuditRecord>, ServiceError> {
    let mut s = Sql::new(LIST_COLUMNS);
    s.append(&filter_sql(q));
    if let Some((at, id)) = after {
        s.push(" AND (at < ")
            .bind(at)
            .push(" OR (at = ")
            .bind(at)
            .push(" AND id < ")
            .bind(id)
            .push("))");
    }
    s.push(" ORDER BY at DESC, id DESC LIMIT ").bind(limit);
    db.all(&s).await?.iter().map(record_from).collect()
}

/// Every entry the filter matches, newest first (at most `limit`).
pub async fn all<C: ConnectionTrait>(
    db: &C,
    q: &crate::domain::audit::AuditQuery,
    limit: i64,
) -> Result<Vec<crate::domain::audit::AuditRecord>, ServiceError> {
    let mut s = Sql::new(LIST_COLUMNS);
    s.append(&filter_sql(q))
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .bind(limit);
    db.all(&s).await?.iter().map(record_from).collect()
}
