//! Reading users: the table page (search, filters, sort, paging, total) and one
//! user's detail.
//!
//! The page is fetched in two steps so deep pages stay cheap: first the ids of the
//! page (an index-only walk in sort order, or a search-index lookup), then the 25-100
//! rows by id with their counts. Search never scans the table: SQLite uses the FTS5
//! trigram index `users_fts`, PostgreSQL the pg_trgm index on `users.search_doc`.
//! Queries under three characters use prefix ranges on the name indexes instead.
//! A filtered page counts its matches only up to a limit (`Config::exact_count_up_to`,
//! and at least to the end of the page); [`count`] gives the exact figure when an
//! admin asks for it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult};

use super::dialect::{Dialect, Run, SearchIndex};
use super::field_sql;
use super::sql::{like_pattern, Sql};
use super::ServiceError;
use crate::domain::field_query::FieldCondition;
use crate::domain::fields::FieldDef;
use crate::domain::query::SearchTerms;
use crate::domain::{
    DeviceInfo, NamedRef, SortDir, SortKey, Status, StatusFilter, TagMode, UserDetail, UserPage,
    UserQuery, UserRow,
};

/// Tag filter with names resolved to ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagFilter {
    /// No tag filter.
    Off,
    /// Nobody can match (a required tag does not exist).
    Impossible,
    All(Vec<i64>),
    Any(Vec<i64>),
    None(Vec<i64>),
}

/// Resolves the query's tag names (case-insensitively) into a filter.
pub async fn resolve_tags<C: ConnectionTrait>(
    db: &C,
    mode: TagMode,
    names: &[String],
) -> Result<TagFilter, ServiceError> {
    if names.is_empty() {
        return Ok(TagFilter::Off);
    }
    let mut q = Sql::new("SELECT id FROM tags WHERE lower(name) IN (");
    q.bind_list(names.iter().map(|n| n.to_lowercase()))
        .push(")");
    let ids: Vec<i64> = db
        .all(&q)
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?;
    Ok(tag_filter(mode, names.len(), ids))
}

fn tag_filter(mode: TagMode, wanted: usize, ids: Vec<i64>) -> TagFilter {
    match mode {
        TagMode::All if ids.len() < wanted => TagFilter::Impossible,
        TagMode::All => TagFilter::All(ids),
        TagMode::Any if ids.is_empty() => TagFilter::Impossible,
        TagMode::Any => TagFilter::Any(ids),
        TagMode::None if ids.is_empty() => TagFilter::Off,
        TagMode::None => TagFilter::None(ids),
    }
}

/// A query's filters resolved against the database: tag names to ids, custom field
/// filters and sort to their definitions (unknown or archived fields are dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct Filters {
    /// The search text's words, parsed once.
    pub terms: Option<SearchTerms>,
    pub tags: TagFilter,
    pub fields: Vec<(FieldDef, FieldCondition)>,
    pub sort_field: Option<FieldDef>,
}

impl Filters {
    /// `query`'s own filters (its search terms) with `tags`, and no custom fields.
    pub fn of(query: &UserQuery, tags: TagFilter) -> Self {
        Filters {
            terms: query.search_terms(),
            tags,
            fields: Vec::new(),
            sort_field: None,
        }
    }
}

/// Resolves everything in `query` that names database objects.
pub async fn resolve<C: ConnectionTrait>(
    db: &C,
    query: &UserQuery,
) -> Result<Filters, ServiceError> {
    let tags = resolve_tags(db, query.tag_mode, &query.tags).await?;
    if query.fields.is_empty() && query.sort_field.is_none() {
        return Ok(Filters::of(query, tags));
    }
    let defs = super::fields::list(db, false).await?;
    let find = |key: &str| defs.iter().find(|d| d.key == key).cloned();
    Ok(Filters {
        terms: query.search_terms(),
        tags,
        fields: query
            .fields
            .iter()
            .filter_map(|f| Some((find(&f.key)?, f.condition.clone())))
            .collect(),
        sort_field: query.sort_field.as_deref().and_then(find),
    })
}

/// How a list query finds its candidate users.
///
/// On SQLite, a search with a word of three or more characters is driven by the FTS5
/// index: candidates come from `users_fts` in rowid order, status is checked through
/// the narrow `users_status_idx`, tags through `user_tags`' indexes, and the wide
/// users table is joined only when a condition needs a row (dates, short words) or
/// the sort needs a column. Everything else starts from `users`.
#[derive(Debug)]
struct Plan {
    /// The FTS5 MATCH expression, when the search index drives.
    fts: Option<String>,
    /// Conditions that need the users row (`users.*`).
    row: Vec<Sql>,
    /// Conditions on the user id only, written against `id`.
    by_id: Vec<Sql>,
}

/// The user id expression of a plan: the FTS rowid when it drives, else `users.id`.
const FTS_ID: &str = "users_fts.rowid";
const USERS_ID: &str = "users.id";

fn plan(
    dialect: Dialect,
    query: &UserQuery,
    filters: &Filters,
    join_users: impl Fn(&Plan) -> bool,
) -> (Plan, bool) {
    let terms = &filters.terms;
    let fts = match (terms, dialect.search_index()) {
        (Some(t), SearchIndex::Fts5) if !t.indexed.is_empty() => Some(fts_expression(&t.indexed)),
        _ => None,
    };
    let mut row = Vec::new();
    if let Some(terms) = terms {
        row.extend(search_conditions(dialect, terms));
    }
    if let Some(from) = query.signup_from {
        let mut s = Sql::new("users.created_at >= ");
        s.bind(start_of_day(from));
        row.push(s);
    }
    if let Some(to) = query.signup_to {
        let mut s = Sql::new("users.created_at < ");
        s.bind(start_of_day(to.succ_opt().unwrap_or(to)));
        row.push(s);
    }
    row.extend(
        filters
            .fields
            .iter()
            .filter_map(|(def, c)| field_sql::condition(dialect, def, c)),
    );
    let mut plan = Plan {
        fts,
        row,
        by_id: Vec::new(),
    };
    let joined = plan.fts.is_none() || join_users(&plan);
    let id = if plan.fts.is_some() { FTS_ID } else { USERS_ID };
    // Tags first: they are usually the more selective probe, and SQLite evaluates
    // these terms in order.
    plan.by_id.extend(tag_conditions(&filters.tags, id));
    if let StatusFilter::Only(status) = query.status {
        let mut s = Sql::default();
        if joined {
            s.push("users.status = ").bind(status.as_str());
        } else {
            s.push(
                "EXISTS (SELECT 1 FROM users AS su INDEXED BY users_status_idx WHERE su.status = ",
            )
            .bind(status.as_str())
            .push(&format!(" AND su.id = {id})"));
        }
        plan.by_id.push(s);
    }
    (plan, joined)
}

fn tag_conditions(tags: &TagFilter, id: &str) -> Vec<Sql> {
    let probe = |negate: bool, ids: &[i64]| {
        let mut s = Sql::new(&format!(
            "{}EXISTS (SELECT 1 FROM user_tags ut WHERE ut.user_id = {id} AND ut.tag_id ",
            if negate { "NOT " } else { "" }
        ));
        match ids {
            [one] => s.push("= ").bind(*one).push(")"),
            many => s.push("IN (").bind_list(many.iter().copied()).push("))"),
        };
        s
    };
    match tags {
        TagFilter::Off => vec![],
        TagFilter::Impossible => vec![Sql::new("1 = 0")],
        TagFilter::All(ids) => ids.iter().map(|t| probe(false, &[*t])).collect(),
        TagFilter::Any(ids) => vec![probe(false, ids)],
        TagFilter::None(ids) => vec![probe(true, ids)],
    }
}

fn fts_expression(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `FROM ... WHERE ...` for a plan (without the keyword SELECT or what follows WHERE).
fn from_where(plan: &Plan, joined: bool) -> Sql {
    from_joined_where(plan, joined, "")
}

/// [`from_where`] with `joins` (`LEFT JOIN ...` clauses over `users`) after the tables.
fn from_joined_where(plan: &Plan, joined: bool, joins: &str) -> Sql {
    let mut s = Sql::default();
    let mut conditions: Vec<&Sql> = Vec::new();
    let mut fts_match = Sql::default();
    match &plan.fts {
        Some(expr) => {
            s.push(" FROM users_fts");
            if joined {
                s.push(" JOIN users ON users.id = users_fts.rowid");
            }
            fts_match.push("users_fts MATCH ").bind(expr.clone());
            conditions.push(&fts_match);
        }
        None => {
            s.push(" FROM users");
        }
    }
    s.push(joins);
    conditions.extend(plan.row.iter());
    conditions.extend(plan.by_id.iter());
    for (i, c) in conditions.iter().enumerate() {
        s.push(if i == 0 { " WHERE " } else { " AND " });
        s.append(c);
    }
    s
}

/// Whether any filter beyond a status is set.
fn filters_beyond_status(query: &UserQuery, filters: &Filters) -> bool {
    filters.terms.is_some()
        || query.signup_from.is_some()
        || query.signup_to.is_some()
        || filters.tags != TagFilter::Off
        || !filters.fields.is_empty()
}

fn search_conditions(dialect: Dialect, terms: &SearchTerms) -> Vec<Sql> {
    let mut parts = Vec::new();
    if !terms.indexed.is_empty() {
        if dialect.search_index() == SearchIndex::Trigram {
            for word in &terms.indexed {
                let mut s = Sql::new("users.search_doc LIKE ");
                s.bind(like_pattern(word));
                parts.push(s);
            }
        }
        for word in &terms.short {
            parts.push(substring_filter(dialect, word));
        }
    } else if let Some((first, rest)) = terms.short.split_first() {
        parts.push(prefix_filter(dialect, first));
        for word in rest {
            parts.push(substring_filter(dialect, word));
        }
    }
    parts
}

/// A short word somewhere in a searchable field; only applied to rows an index has
/// already narrowed down, or after a prefix range.
fn substring_filter(dialect: Dialect, word: &str) -> Sql {
    let pattern = like_pattern(word);
    let mut s = Sql::default();
    match dialect.search_index() {
        SearchIndex::Trigram => {
            s.push("users.search_doc LIKE ").bind(pattern);
        }
        SearchIndex::Fts5 => {
            s.push("(");
            for (i, col) in SEARCH_COLUMNS.iter().enumerate() {
                if i > 0 {
                    s.push(" OR ");
                }
                s.push(&format!("lower(coalesce({col}, '')) LIKE "))
                    .bind(pattern.clone())
                    .push(" ESCAPE '\\'");
            }
            s.push(")");
        }
    }
    s
}

const SEARCH_COLUMNS: [&str; 7] = [
    "users.first_name",
    "users.last_name",
    "users.email",
    "users.username",
    "users.phone",
    "users.company",
    "users.job_title",
];

/// Names, username or email starting with `word`, as index range scans.
fn prefix_filter(dialect: Dialect, word: &str) -> Sql {
    let upper = prefix_upper_bound(word);
    let columns = [
        "lower(users.first_name)",
        "lower(users.last_name)",
        "lower(users.username)",
        "users.email",
    ];
    let mut s = Sql::new("(");
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            s.push(" OR ");
        }
        let col = dialect.bytewise(col);
        s.push(&format!("({col} >= ")).bind(word.to_string());
        s.push(&format!(" AND {col} < "))
            .bind(upper.clone())
            .push(")");
    }
    s.push(")");
    s
}

/// The smallest string greater than every string starting with `prefix`.
fn prefix_upper_bound(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    char::MAX.to_string()
}

fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The sort expression for `key`; text compares bytewise on both dialects.
fn sort_expr(dialect: Dialect, key: SortKey) -> String {
    match key {
        SortKey::Id => "users.id".into(),
        SortKey::FirstName => dialect.bytewise("lower(users.first_name)"),
        SortKey::LastName => dialect.bytewise("lower(users.last_name)"),
        SortKey::Username => dialect.bytewise("lower(users.username)"),
        SortKey::Email => dialect.bytewise("users.email"),
        SortKey::SignupDate => "users.created_at".into(),
        SortKey::LastAccess => "users.last_access_at".into(),
        SortKey::Balance => "users.balance".into(),
    }
}

/// `SELECT id ... ORDER BY ... LIMIT ... OFFSET ...` for the page's ids.
pub fn page_ids_sql(dialect: Dialect, query: &UserQuery, filters: &Filters) -> Sql {
    let mut s = ordered_ids_sql(dialect, query, filters);
    s.push(" LIMIT ")
        .bind(i64::from(query.per_page))
        .push(" OFFSET ")
        .bind(query.offset() as i64);
    s
}

/// `SELECT id ... ORDER BY ...` of every matching user in the table's order.
pub fn ordered_ids_sql(dialect: Dialect, query: &UserQuery, filters: &Filters) -> Sql {
    // Sorting by anything but id needs the users row.
    let (plan, joined) = plan(dialect, query, filters, |p| {
        !p.row.is_empty() || query.sort != SortKey::Id || filters.sort_field.is_some()
    });
    let id = if plan.fts.is_some() { FTS_ID } else { USERS_ID };
    let mut s = Sql::new(&format!("SELECT {id} AS id"));
    s.append(&from_where(&plan, joined));
    s.push(&order_by(dialect, query, filters, id));
    s
}

/// `SELECT <columns> ... ORDER BY ...`: `columns` (SQL over `users` and what `joins`
/// adds, e.g. `LEFT JOIN (...) AS t ON t.user_id = users.id`) of every matching user in
/// the table's order, in one statement, for an export to stream.
pub fn ordered_rows_sql(
    dialect: Dialect,
    query: &UserQuery,
    filters: &Filters,
    columns: &str,
    joins: &str,
) -> Sql {
    let (plan, joined) = plan(dialect, query, filters, |_| true);
    let id = if plan.fts.is_some() { FTS_ID } else { USERS_ID };
    let mut s = Sql::new(&format!("SELECT {columns}"));
    s.append(&from_joined_where(&plan, joined, joins));
    s.push(&order_by(dialect, query, filters, id));
    s
}

fn order_by(dialect: Dialect, query: &UserQuery, filters: &Filters, id: &str) -> String {
    let dir = match query.dir {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    };
    if let Some(def) = &filters.sort_field {
        return field_sql::order_by(dialect, def, dir);
    }
    // The nullable columns (their indexes are built the same way); the others keep
    // PostgreSQL's default so that their plain indexes serve the order.
    let nulls = match query.sort {
        SortKey::LastAccess | SortKey::Username => dialect.nulls_lowest(query.dir == SortDir::Desc),
        _ => "",
    };
    let text = matches!(
        query.sort,
        SortKey::FirstName | SortKey::LastName | SortKey::Username | SortKey::Email
    );
    let expr = |key| match sort_expr(dialect, key) {
        e if text && filters.terms.is_some() => dialect.sort_matches(&e),
        e => e,
    };
    // Equal values keep one order on every page: a name by the other name, then by id
    // (the sort indexes hold all three, see migration 000011).
    let then = match query.sort.tie_break() {
        Some(key) => format!(", {} {dir}", expr(key)),
        None => String::new(),
    };
    if query.sort == SortKey::Id {
        format!(" ORDER BY {id} {dir}")
    } else {
        format!(
            " ORDER BY {} {dir}{nulls}{then}, users.id {dir}",
            expr(query.sort)
        )
    }
}

/// `SELECT id ...` of every user the query's filters match (no order, no paging):
/// what a bulk command on "all matching" applies to.
pub fn matching_ids_sql(dialect: Dialect, query: &UserQuery, filters: &Filters) -> Sql {
    let (plan, joined) = plan(dialect, query, filters, |p| !p.row.is_empty());
    let id = if plan.fts.is_some() { FTS_ID } else { USERS_ID };
    let mut s = Sql::new(&format!("SELECT {id} AS id"));
    s.append(&from_where(&plan, joined));
    s
}

/// Folds the per-status delta rows PostgreSQL's triggers add (one per statement) into
/// one row per status, so the totals stay a few rows to sum. Any server may run it at
/// any time, also several at once: each moves only the rows it deleted. SQLite keeps
/// one row per status itself. Returns how many rows it wrote (one per status).
pub async fn fold_counts<C: ConnectionTrait>(db: &C) -> Result<u64, ServiceError> {
    if db.dialect().is_sqlite() {
        return Ok(0);
    }
    let folded = db
        .exec(Sql::new(
            "WITH gone AS (DELETE FROM user_counts RETURNING status, n) \
             INSERT INTO user_counts (status, n) SELECT status, sum(n) FROM gone GROUP BY status",
        ))
        .await?;
    Ok(folded.rows_affected())
}

/// How to count the matching users.
pub fn count_sql(dialect: Dialect, query: &UserQuery, filters: &Filters) -> Sql {
    if !filters_beyond_status(query, filters) {
        // Kept by triggers; never scans the users table.
        let mut s = Sql::new("SELECT coalesce(sum(n), 0) AS n FROM user_counts");
        if let StatusFilter::Only(status) = query.status {
            s.push(" WHERE status = ").bind(status.as_str());
        }
        return s;
    }
    if only_tags(query, filters) {
        if let Some(s) = tag_only_count(&filters.tags) {
            return s;
        }
    }
    let (plan, joined) = plan(dialect, query, filters, |p| !p.row.is_empty());
    let mut s = Sql::new("SELECT count(*) AS n");
    s.append(&from_where(&plan, joined));
    s
}

/// How to count the matching users up to `limit` and one more (a page's total): the
/// count stops there, so a search matching half the table costs what a narrow one
/// does. `None` when the exact count is as cheap (kept by the triggers).
pub fn bounded_count_sql(
    dialect: Dialect,
    query: &UserQuery,
    filters: &Filters,
    limit: u64,
) -> Option<Sql> {
    if !filters_beyond_status(query, filters) {
        return None;
    }
    let mut s = Sql::new("SELECT count(*) AS n FROM (");
    // A tag filter alone reads `user_tags` rather than probing every user (a rare
    // combination would otherwise walk the whole table).
    match tagged_users(&filters.tags).filter(|_| only_tags(query, filters)) {
        Some(tagged) => s.append(&tagged),
        None => {
            let (plan, joined) = plan(dialect, query, filters, |p| !p.row.is_empty());
            s.push("SELECT 1 AS one").append(&from_where(&plan, joined))
        }
    };
    s.push(" LIMIT ")
        .bind(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX))
        .push(") AS counted");
    Some(s)
}

/// Whether the only filter is on tags.
fn only_tags(query: &UserQuery, filters: &Filters) -> bool {
    query.status == StatusFilter::All
        && filters.terms.is_none()
        && query.signup_from.is_none()
        && query.signup_to.is_none()
        && filters.fields.is_empty()
}

/// The users carrying any or all of a filter's tags, one row each, from `user_tags`'
/// tag index alone.
fn tagged_users(tags: &TagFilter) -> Option<Sql> {
    let mut s = Sql::new("SELECT user_id FROM user_tags WHERE tag_id ");
    match tags {
        TagFilter::Any(ids) if ids.len() == 1 => {
            s.push("= ").bind(ids[0]);
        }
        TagFilter::Any(ids) => {
            s.push("IN (")
                .bind_list(ids.iter().copied())
                .push(") GROUP BY user_id");
        }
        TagFilter::All(ids) => {
            s.push("IN (")
                .bind_list(ids.iter().copied())
                .push(") GROUP BY user_id HAVING count(*) = ")
                .bind(ids.len() as i64);
        }
        TagFilter::Off | TagFilter::Impossible | TagFilter::None(_) => return None,
    }
    Some(s)
}

/// Every user matching `query`'s filters, counted exactly (however long it takes).
pub async fn count<C: ConnectionTrait>(db: &C, query: &UserQuery) -> Result<u64, ServiceError> {
    let filters = resolve(db, query).await?;
    match db.one(count_sql(db.dialect(), query, &filters)).await? {
        Some(row) => read_count(&row),
        None => Ok(0),
    }
}

/// Counts for a tag filter alone, read from `user_tags`' tag index instead of
/// probing every user.
fn tag_only_count(tags: &TagFilter) -> Option<Sql> {
    let mut s = Sql::default();
    match tags {
        TagFilter::Any(ids) if ids.len() == 1 => {
            s.push("SELECT count(*) AS n FROM user_tags WHERE tag_id = ")
                .bind(ids[0]);
        }
        TagFilter::Any(_) | TagFilter::All(_) => {
            s.push("SELECT count(*) AS n FROM (")
                .append(&tagged_users(tags)?)
                .push(") AS tagged");
        }
        TagFilter::None(ids) => {
            s.push("SELECT (SELECT coalesce(sum(n), 0) FROM user_counts) - (SELECT count(*) FROM (SELECT user_id FROM user_tags WHERE tag_id IN (")
                .bind_list(ids.iter().copied())
                .push(") GROUP BY user_id) AS tagged) AS n");
        }
        TagFilter::Off | TagFilter::Impossible => return None,
    }
    Some(s)
}

const ROW_COLUMNS: &str = "users.id, users.username, users.first_name, users.last_name, users.email, \
    users.phone, users.status, roles.name AS role, users.balance, users.created_at, users.last_access_at, \
    (SELECT count(*) FROM devices WHERE devices.user_id = users.id) AS devices, \
    (SELECT count(*) FROM user_tags WHERE user_tags.user_id = users.id) AS tags, \
    CAST(users.attributes AS TEXT) AS attributes_json";

/// One page of the users table for `query`. The count and the page run concurrently
/// (on separate pool connections when `db` is a pool).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    query: &UserQuery,
    count_up_to: u64,
) -> Result<UserPage, ServiceError> {
    let dialect = db.dialect();
    let filters = resolve(db, query).await?;
    // A page past the middle of a view whose total is kept by the triggers is read
    // from the other end (the same order reversed, a short offset): the last page of a
    // million users costs what the first does.
    if !filters_beyond_status(query, &filters) {
        let total = match db.one(count_sql(dialect, query, &filters)).await? {
            Some(row) => read_count(&row)?,
            None => 0,
        };
        let ids = match from_the_end(query, total) {
            Some((take, skip)) => {
                let reversed = UserQuery {
                    dir: query.dir.flip(),
                    ..query.clone()
                };
                let mut s = ordered_ids_sql(dialect, &reversed, &filters);
                s.push(" LIMIT ")
                    .bind(take as i64)
                    .push(" OFFSET ")
                    .bind(skip as i64);
                let mut ids = ids_of(db, s).await?;
                ids.reverse();
                ids
            }
            None => ids_of(db, page_ids_sql(dialect, query, &filters)).await?,
        };
        return Ok(UserPage {
            rows: rows_by_id(db, &ids).await?,
            total,
            exact: true,
            page: query.page,
            per_page: query.per_page,
        });
    }
    let page = async {
        let ids = ids_of(db, page_ids_sql(dialect, query, &filters)).await?;
        rows_by_id(db, &ids).await
    };
    // Counted up to the end of this page at least, so that paging knows what follows.
    let limit = count_up_to.max(query.offset() + u64::from(query.per_page));
    let total = async {
        let sql = bounded_count_sql(dialect, query, &filters, limit)
            .unwrap_or_else(|| count_sql(dialect, query, &filters));
        match db.one(sql).await? {
            Some(row) => read_count(&row),
            None => Ok(0),
        }
    };
    let (rows, counted) = tokio::try_join!(page, total)?;
    Ok(UserPage {
        rows,
        total: counted.min(limit),
        exact: counted <= limit,
        page: query.page,
        per_page: query.per_page,
    })
}

async fn ids_of<C: ConnectionTrait>(db: &C, sql: Sql) -> Result<Vec<i64>, ServiceError> {
    Ok(db
        .all(sql)
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?)
}

/// For a page in the second half of `total` rows: how many rows it holds and how many
/// to skip when reading the order backwards.
fn from_the_end(query: &UserQuery, total: u64) -> Option<(u64, u64)> {
    let offset = query.offset();
    if offset <= total / 2 || offset >= total {
        return None;
    }
    let take = u64::from(query.per_page).min(total - offset);
    Some((take, total - offset - take))
}

pub(crate) fn read_count(row: &QueryResult) -> Result<u64, ServiceError> {
    // sum() is NUMERIC on PostgreSQL and INTEGER on SQLite; count() is INT8 / INTEGER.
    let n = match row.try_get::<i64>("", "n") {
        Ok(n) => n,
        Err(_) => {
            let d: sea_orm::prelude::Decimal = row.try_get("", "n")?;
            i64::try_from(d).map_err(|e| anyhow::anyhow!("count out of range: {e}"))?
        }
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Table rows for `ids`, in the order given.
pub async fn rows_by_id<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<Vec<UserRow>, ServiceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(&format!(
        "SELECT {ROW_COLUMNS} FROM users JOIN roles ON roles.id = users.role_id WHERE users.id IN ("
    ));
    q.bind_list(ids.iter().copied()).push(")");
    let mut rows: Vec<UserRow> = db
        .all(&q)
        .await?
        .iter()
        .map(row_from)
        .collect::<Result<_, _>>()?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}

fn status_from(s: &str) -> Result<Status, ServiceError> {
    Status::parse(s)
        .ok_or_else(|| anyhow::anyhow!("unknown user status {s:?} in the database").into())
}

fn row_from(r: &QueryResult) -> Result<UserRow, ServiceError> {
    Ok(UserRow {
        id: r.try_get("", "id")?,
        username: r.try_get("", "username")?,
        first_name: r.try_get("", "first_name")?,
        last_name: r.try_get("", "last_name")?,
        email: r.try_get("", "email")?,
        phone: r.try_get("", "phone")?,
        status: status_from(&r.try_get::<String>("", "status")?)?,
        role: r.try_get("", "role")?,
        balance: r.try_get("", "balance")?,
        devices: r.try_get("", "devices")?,
        tags: r.try_get("", "tags")?,
        created_at: r.try_get("", "created_at")?,
        last_access_at: r.try_get("", "last_access_at")?,
        fields: field_texts(&r.try_get::<String>("", "attributes_json")?),
    })
}

/// Custom field values as the table shows them, by key.
fn field_texts(json: &str) -> std::collections::BTreeMap<String, String> {
    serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(json)
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| (k.clone(), crate::domain::fields::value_text(v)))
        .collect()
}

/// Everything the drawer shows about user `id`.
pub async fn detail<C: ConnectionTrait>(db: &C, id: i64) -> Result<UserDetail, ServiceError> {
    let dialect = db.dialect();
    let mut q = Sql::new(
        "SELECT users.*, CAST(users.attributes AS TEXT) AS attributes_json, roles.name AS role_name \
         FROM users JOIN roles ON roles.id = users.role_id WHERE users.id = ",
    );
    q.bind(id);
    let r = db
        .one(&q)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("User {id}")))?;
    let named = |sql: &str| {
        let mut s = Sql::new(sql);
        s.bind(id).push(" ORDER BY lower(name)");
        s
    };
    let tags = named_refs(db, named("SELECT tags.id, tags.name FROM tags JOIN user_tags ON user_tags.tag_id = tags.id WHERE user_tags.user_id = ")).await?;
    let groups = named_refs(db, named("SELECT groups.id, groups.name FROM groups JOIN user_groups ON user_groups.group_id = groups.id WHERE user_groups.user_id = ")).await?;
    let mut dq = Sql::new("SELECT id, name, platform, last_seen_at FROM devices WHERE user_id = ");
    dq.bind(id).push(" ORDER BY last_seen_at DESC, id");
    let devices = db
        .all(&dq)
        .await?
        .iter()
        .map(|d| {
            Ok(DeviceInfo {
                id: d.try_get("", "id")?,
                name: d.try_get("", "name")?,
                platform: d.try_get("", "platform")?,
                last_seen_at: d.try_get("", "last_seen_at")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    let signup_source: String = r.try_get("", "signup_source")?;
    let mut by = Sql::new("SELECT actor_email FROM audit_log WHERE target_user_id = ");
    by.bind(id)
        .push(" AND ")
        .push(&dialect.json_has("after", "email_opt_in"));
    by.push(" ORDER BY at DESC, id DESC LIMIT 1");
    let email_opt_in_changed_by = match db.one(&by).await? {
        Some(row) => Some(row.try_get::<String>("", "actor_email")?),
        None if signup_source == "self_signup" => Some("the user, at signup".to_string()),
        None => None,
    };
    Ok(UserDetail {
        id,
        email_opt_in_changed_by,
        email: r.try_get("", "email")?,
        username: r.try_get("", "username")?,
        phone: r.try_get("", "phone")?,
        first_name: r.try_get("", "first_name")?,
        last_name: r.try_get("", "last_name")?,
        job_title: r.try_get("", "job_title")?,
        company: r.try_get("", "company")?,
        address: r.try_get("", "address")?,
        language: r.try_get("", "language")?,
        status: status_from(&r.try_get::<String>("", "status")?)?,
        role: NamedRef {
            id: r.try_get("", "role_id")?,
            name: r.try_get("", "role_name")?,
        },
        balance: r.try_get("", "balance")?,
        email_opt_in: r.try_get("", "email_opt_in")?,
        email_opt_in_changed_at: r.try_get("", "email_opt_in_changed_at")?,
        note: r.try_get("", "note")?,
        has_password: r.try_get::<Option<String>>("", "password_hash")?.is_some(),
        must_change_password: r.try_get("", "must_change_password")?,
        signup_source,
        created_at: r.try_get("", "created_at")?,
        updated_at: r.try_get("", "updated_at")?,
        last_access_at: r.try_get("", "last_access_at")?,
        version: r.try_get("", "version")?,
        tags,
        groups,
        devices,
        attributes: attributes_of(&r)?,
    })
}

/// A users row's custom field values (selected as `attributes_json`).
pub(crate) fn attributes_of(
    r: &QueryResult,
) -> Result<std::collections::BTreeMap<String, serde_json::Value>, ServiceError> {
    let text: String = r.try_get("", "attributes_json")?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// `id, name` rows as [`NamedRef`]s.
pub(crate) async fn named_refs<C: ConnectionTrait>(
    db: &C,
    q: Sql,
) -> Result<Vec<NamedRef>, ServiceError> {
    Ok(db
        .all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(NamedRef {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?)
}

/// The email of user `id`, or `NotFound`, holding the user's row until the
/// transaction `txn` ends: another command on the same user waits for it. For commands
/// that read a user's state and replace it whole (its tags, its groups), which
/// interleaved with another such command would leave a mixture of both.
pub async fn lock_user(txn: &DatabaseTransaction, id: i64) -> Result<String, ServiceError> {
    email_of(txn, id, txn.dialect().row_lock()).await
}

/// The email of user `id`, or `NotFound`.
pub async fn user_email<C: ConnectionTrait>(db: &C, id: i64) -> Result<String, ServiceError> {
    email_of(db, id, "").await
}

/// `SELECT email` of user `id`, ending with `lock` (empty, or [`Dialect::row_lock`]).
async fn email_of<C: ConnectionTrait>(db: &C, id: i64, lock: &str) -> Result<String, ServiceError> {
    let mut q = Sql::new("SELECT email FROM users WHERE id = ");
    q.bind(id).push(lock);
    Ok(db
        .one(&q)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("User {id}")))?
        .try_get("", "email")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> UserQuery {
        UserQuery::from_query_string(s)
    }

    #[test]
    fn no_filter_lists_by_id_and_counts_from_the_counter_table() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let ids = page_ids_sql(dialect, &q(""), &Filters::of(&q(""), TagFilter::Off));
            assert_eq!(
                ids.text(),
                "SELECT users.id AS id FROM users ORDER BY users.id DESC LIMIT $1 OFFSET $2"
            );
            let count = count_sql(
                dialect,
                &q("status=banned"),
                &Filters::of(&q("status=banned"), TagFilter::Off),
            );
            assert_eq!(
                count.text(),
                "SELECT coalesce(sum(n), 0) AS n FROM user_counts WHERE status = $1"
            );
        }
    }

    #[test]
    fn sqlite_search_is_driven_by_fts_without_touching_user_rows() {
        let query = q("q=Smith+o%22b&status=active");
        let page = page_ids_sql(
            Dialect::Sqlite,
            &query,
            &Filters::of(&query, TagFilter::Any(vec![7])),
        );
        assert_eq!(
            page.text(),
            "SELECT users_fts.rowid AS id FROM users_fts WHERE users_fts MATCH $1 \
             AND EXISTS (SELECT 1 FROM user_tags ut WHERE ut.user_id = users_fts.rowid AND ut.tag_id = $2) \
             AND EXISTS (SELECT 1 FROM users AS su INDEXED BY users_status_idx WHERE su.status = $3 AND su.id = users_fts.rowid) \
             ORDER BY users_fts.rowid DESC LIMIT $4 OFFSET $5"
        );
        assert_eq!(
            page.values()[0],
            sea_orm::Value::from("\"smith\" AND \"o\"\"b\"")
        );
        let count = count_sql(
            Dialect::Sqlite,
            &query,
            &Filters::of(&query, TagFilter::Off),
        );
        assert!(
            count.text().starts_with(
                "SELECT count(*) AS n FROM users_fts WHERE users_fts MATCH $1 AND EXISTS"
            ),
            "{}",
            count.text()
        );
    }

    #[test]
    fn sqlite_search_joins_users_only_when_a_row_is_needed() {
        let sorted = page_ids_sql(
            Dialect::Sqlite,
            &q("q=smith&sort=last_name"),
            &Filters::of(&q("q=smith&sort=last_name"), TagFilter::Off),
        );
        assert_eq!(
            sorted.text(),
            "SELECT users_fts.rowid AS id FROM users_fts JOIN users ON users.id = users_fts.rowid WHERE users_fts MATCH $1 \
             ORDER BY lower(users.last_name) ASC, lower(users.first_name) ASC, users.id ASC LIMIT $2 OFFSET $3"
        );
        let dated = count_sql(
            Dialect::Sqlite,
            &q("q=smith&status=banned&from=2024-01-01"),
            &Filters::of(&q("q=smith&status=banned&from=2024-01-01"), TagFilter::Off),
        );
        assert_eq!(
            dated.text(),
            "SELECT count(*) AS n FROM users_fts JOIN users ON users.id = users_fts.rowid WHERE users_fts MATCH $1 \
             AND users.created_at >= $2 AND users.status = $3"
        );
        let short_word = count_sql(
            Dialect::Sqlite,
            &q("q=jo+smith"),
            &Filters::of(&q("q=jo+smith"), TagFilter::Off),
        );
        assert!(
            short_word.text().contains("JOIN users") && short_word.text().contains("LIKE"),
            "{}",
            short_word.text()
        );
    }

    #[test]
    fn postgres_search_uses_the_trigram_index_through_like() {
        let query = q("q=Smith+o%22b&status=active");
        let count = count_sql(
            Dialect::Postgres,
            &query,
            &Filters::of(&query, TagFilter::Off),
        );
        assert_eq!(
            count.text(),
            "SELECT count(*) AS n FROM users WHERE users.search_doc LIKE $1 AND users.search_doc LIKE $2 AND users.status = $3"
        );
        assert_eq!(count.values()[0], sea_orm::Value::from("%smith%"));
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn short_search_uses_prefix_ranges() {
        let s = count_sql(
            Dialect::Sqlite,
            &q("q=Li"),
            &Filters::of(&q("q=Li"), TagFilter::Off),
        );
        assert!(
            s.text()
                .contains("(lower(users.last_name) >= $3 AND lower(users.last_name) < $4)"),
            "{}",
            s.text()
        );
        assert_eq!(s.values()[0], sea_orm::Value::from("li"));
        assert_eq!(s.values()[1], sea_orm::Value::from("lj"));
        let pg = count_sql(
            Dialect::Postgres,
            &q("q=Li"),
            &Filters::of(&q("q=Li"), TagFilter::Off),
        );
        assert!(
            pg.text()
                .contains("lower(users.first_name) COLLATE \"C\" >= $1"),
            "{}",
            pg.text()
        );
    }

    #[test]
    fn tag_modes_probe_user_tags_by_id() {
        let query = q("status=active");
        let all = page_ids_sql(
            Dialect::Postgres,
            &query,
            &Filters::of(&query, TagFilter::All(vec![1, 2])),
        );
        assert_eq!(
            all.text(),
            "SELECT users.id AS id FROM users \
             WHERE EXISTS (SELECT 1 FROM user_tags ut WHERE ut.user_id = users.id AND ut.tag_id = $1) \
             AND EXISTS (SELECT 1 FROM user_tags ut WHERE ut.user_id = users.id AND ut.tag_id = $2) \
             AND users.status = $3 ORDER BY users.id DESC LIMIT $4 OFFSET $5"
        );
        let any = page_ids_sql(
            Dialect::Sqlite,
            &query,
            &Filters::of(&query, TagFilter::Any(vec![1, 2])),
        );
        assert!(any.text().contains("EXISTS (SELECT 1 FROM user_tags ut WHERE ut.user_id = users.id AND ut.tag_id IN ($1, $2))"), "{}", any.text());
        let none = page_ids_sql(
            Dialect::Sqlite,
            &query,
            &Filters::of(&query, TagFilter::None(vec![3])),
        );
        assert!(none.text().contains("NOT EXISTS (SELECT 1 FROM user_tags ut WHERE ut.user_id = users.id AND ut.tag_id = $1)"), "{}", none.text());
        let impossible = count_sql(
            Dialect::Sqlite,
            &query,
            &Filters::of(&query, TagFilter::Impossible),
        );
        assert_eq!(
            impossible.text(),
            "SELECT count(*) AS n FROM users WHERE 1 = 0 AND users.status = $1"
        );
    }

    #[test]
    fn tag_only_counts_read_the_tag_index() {
        let plain = q("");
        let cases = [
            (TagFilter::Any(vec![4]), "SELECT count(*) AS n FROM user_tags WHERE tag_id = $1"),
            (
                TagFilter::All(vec![4, 5]),
                "SELECT count(*) AS n FROM (SELECT user_id FROM user_tags WHERE tag_id IN ($1, $2) GROUP BY user_id HAVING count(*) = $3) AS tagged",
            ),
        ];
        for (tags, want) in cases {
            assert_eq!(
                count_sql(Dialect::Sqlite, &plain, &Filters::of(&plain, tags.clone())).text(),
                want,
                "{tags:?}"
            );
        }
        let none = count_sql(
            Dialect::Postgres,
            &plain,
            &Filters::of(&plain, TagFilter::None(vec![4])),
        );
        assert!(
            none.text()
                .starts_with("SELECT (SELECT coalesce(sum(n), 0) FROM user_counts) - "),
            "{}",
            none.text()
        );
        // With another filter the tag index alone cannot answer.
        let with_status = count_sql(
            Dialect::Sqlite,
            &q("status=banned"),
            &Filters::of(&q("status=banned"), TagFilter::Any(vec![4])),
        );
        assert!(
            with_status
                .text()
                .starts_with("SELECT count(*) AS n FROM users WHERE"),
            "{}",
            with_status.text()
        );
    }

    #[test]
    fn a_page_counts_its_matches_up_to_a_limit() {
        let plain = q("");
        let off = Filters::of(&plain, TagFilter::Off);
        assert!(
            bounded_count_sql(Dialect::Postgres, &plain, &off, 10).is_none(),
            "the triggers' total is exact and cheap"
        );
        let search = q("q=smith&status=active");
        let s = bounded_count_sql(
            Dialect::Postgres,
            &search,
            &Filters::of(&search, TagFilter::Off),
            10_000,
        )
        .expect("bounded");
        assert_eq!(
            s.text(),
            "SELECT count(*) AS n FROM (SELECT 1 AS one FROM users WHERE users.search_doc LIKE $1 AND users.status = $2 LIMIT $3) AS counted"
        );
        assert_eq!(s.values()[2], sea_orm::Value::from(10_001_i64));
        let tag = bounded_count_sql(
            Dialect::Sqlite,
            &plain,
            &Filters::of(&plain, TagFilter::Any(vec![4])),
            10_000,
        )
        .expect("bounded");
        assert_eq!(
            tag.text(),
            "SELECT count(*) AS n FROM (SELECT user_id FROM user_tags WHERE tag_id = $1 LIMIT $2) AS counted"
        );
        let all = bounded_count_sql(
            Dialect::Sqlite,
            &plain,
            &Filters::of(&plain, TagFilter::All(vec![4, 5])),
            10_000,
        )
        .expect("bounded");
        assert_eq!(
            all.text(),
            "SELECT count(*) AS n FROM (SELECT user_id FROM user_tags WHERE tag_id IN ($1, $2) GROUP BY user_id HAVING count(*) = $3 LIMIT $4) AS counted"
        );
    }

    #[test]
    fn unknown_tags_resolve_by_mode() {
        assert_eq!(tag_filter(TagMode::All, 2, vec![1]), TagFilter::Impossible);
        assert_eq!(
            tag_filter(TagMode::Any, 2, vec![1]),
            TagFilter::Any(vec![1])
        );
        assert_eq!(tag_filter(TagMode::Any, 1, vec![]), TagFilter::Impossible);
        assert_eq!(tag_filter(TagMode::None, 1, vec![]), TagFilter::Off);
        assert_eq!(
            tag_filter(TagMode::None, 2, vec![4]),
            TagFilter::None(vec![4])
        );
    }

    #[test]
    fn date_range_is_inclusive_of_the_last_day() {
        let s = count_sql(
            Dialect::Sqlite,
            &q("from=2024-01-01&to=2024-01-31"),
            &Filters::of(&q("from=2024-01-01&to=2024-01-31"), TagFilter::Off),
        );
        assert_eq!(s.text(), "SELECT count(*) AS n FROM users WHERE users.created_at >= $1 AND users.created_at < $2");
        let end: DateTime<Utc> = "2024-02-01T00:00:00Z".parse().expect("date");
        assert_eq!(s.values()[1], sea_orm::Value::from(end));
    }

    #[test]
    fn pages_past_the_middle_are_read_from_the_other_end() {
        let page = |page: u32| UserQuery {
            page,
            per_page: 25,
            ..UserQuery::default()
        };
        assert_eq!(from_the_end(&page(1), 1_000_000), None);
        assert_eq!(
            from_the_end(&page(20_000), 1_000_000),
            None,
            "the middle reads forwards"
        );
        // The last page: 25 rows, none skipped backwards.
        assert_eq!(from_the_end(&page(40_000), 1_000_000), Some((25, 0)));
        // A short last page of 1,000,010 rows holds 10.
        assert_eq!(from_the_end(&page(40_001), 1_000_010), Some((10, 0)));
        assert_eq!(from_the_end(&page(39_999), 1_000_000), Some((25, 25)));
        // Past the end: nothing to reverse (the page is empty).
        assert_eq!(from_the_end(&page(40_001), 1_000_000), None);
    }

    #[test]
    fn sort_orders_with_id_tiebreak_and_deep_offset() {
        let s = page_ids_sql(
            Dialect::Sqlite,
            &q("sort=last_name&page=1000"),
            &Filters::of(&q("sort=last_name&page=1000"), TagFilter::Off),
        );
        assert_eq!(
            s.text(),
            "SELECT users.id AS id FROM users ORDER BY lower(users.last_name) ASC, lower(users.first_name) ASC, users.id ASC LIMIT $1 OFFSET $2"
        );
        assert_eq!(s.values()[1], sea_orm::Value::from(24_975_i64));
        let pg = page_ids_sql(
            Dialect::Postgres,
            &q("sort=last_access"),
            &Filters::of(&q("sort=last_access"), TagFilter::Off),
        );
        assert!(
            pg.text()
                .contains("ORDER BY users.last_access_at DESC NULLS LAST, users.id DESC"),
            "{}",
            pg.text()
        );
        // Same first names are ordered by last name, on the index's bytewise order.
        let first = page_ids_sql(
            Dialect::Postgres,
            &q("sort=first_name&dir=desc"),
            &Filters::of(&q("sort=first_name&dir=desc"), TagFilter::Off),
        );
        assert!(
            first.text().contains(
                "ORDER BY lower(users.first_name) COLLATE \"C\" DESC, \
                 lower(users.last_name) COLLATE \"C\" DESC, users.id DESC"
            ),
            "{}",
            first.text()
        );
    }

    #[test]
    fn prefix_upper_bound_increments_last_char() {
        assert_eq!(prefix_upper_bound("li"), "lj");
        assert_eq!(prefix_upper_bound("a"), "b");
    }
}
