//! The one place SQLite and PostgreSQL differ: every idea the two write differently has
//! one method here, and queries ask it rather than branching on the backend. [`Run`]
//! runs a [`Sql`] on any connection or transaction in its dialect.
//!
//! The ideas: placeholders, byte-order text comparison and NULL order (PostgreSQL is
//! made to sort like SQLite), JSON values and access, temporary tables, the search
//! index, and the SQLite-only mechanics (bulk loads, checkpoints, schema reloads).

use std::future::Future;

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, FromQueryResult, QueryResult, Statement,
};

use super::sql::Sql;

/// The SQL dialect of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Where a search for words of three or more characters finds its candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchIndex {
    /// SQLite: the FTS5 trigram table `users_fts`, joined by rowid.
    Fts5,
    /// PostgreSQL: `users.search_doc LIKE '%word%'` through the pg_trgm GIN index.
    Trigram,
}

impl From<DbBackend> for Dialect {
    fn from(backend: DbBackend) -> Self {
        match backend {
            DbBackend::Postgres => Dialect::Postgres,
            // MySQL is not supported; the migrations refuse it before any query runs.
            _ => Dialect::Sqlite,
        }
    }
}

impl Dialect {
    pub fn of<C: ConnectionTrait + ?Sized>(db: &C) -> Self {
        db.get_database_backend().into()
    }

    pub fn backend(self) -> DbBackend {
        match self {
            Dialect::Sqlite => DbBackend::Sqlite,
            Dialect::Postgres => DbBackend::Postgres,
        }
    }

    /// Whether SQLite-only mechanics apply (bulk loads, checkpoints, temp-table cleanup).
    pub fn is_sqlite(self) -> bool {
        self == Dialect::Sqlite
    }

    /// Whether several servers may share this database (PostgreSQL). A SQLite file has
    /// one server, which holds its only writer: background work needs no leases there,
    /// and what was running when that server stopped was interrupted.
    pub fn shared_by_servers(self) -> bool {
        self == Dialect::Postgres
    }

    /// What a command that may take owners away runs before it counts them at its end:
    /// it waits for any other such command to commit (a lock held to the end of the
    /// transaction). `None` where writing commands run one at a time (SQLite).
    pub fn serialize_owner_changes(self) -> Option<&'static str> {
        match self {
            // One fixed key of the transaction-level advisory locks, taken only here.
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock(7150001)"),
            Dialect::Sqlite => None,
        }
    }

    /// What brings the planner's statistics up to date after a bulk load (the product
    /// keeps them current itself; nobody has to run ANALYZE by hand). SQLite samples a
    /// bounded number of rows per index, so it takes well under a second at 1M users.
    /// PostgreSQL also vacuums (one statement: VACUUM cannot run in a transaction),
    /// which marks the loaded pages all-visible: until then every count and deep page
    /// reads the rows instead of the index (a date-range count at 1M users: 530 ms
    /// before, 23 ms after).
    pub fn refresh_statistics(self) -> &'static str {
        match self {
            Dialect::Sqlite => "PRAGMA analysis_limit = 2000; ANALYZE; PRAGMA optimize;",
            Dialect::Postgres => {
                "VACUUM (ANALYZE) users, user_tags, user_groups, tags, groups, devices, audit_log"
            }
        }
    }

    /// What the server runs now and then to keep statistics current between bulk
    /// loads (PostgreSQL's autovacuum does this by itself).
    pub fn routine_statistics(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some("PRAGMA analysis_limit = 2000; PRAGMA optimize;"),
            Dialect::Postgres => None,
        }
    }

    /// A text sort key by which a search's matches are ordered, kept from being read in
    /// order off its index. PostgreSQL would otherwise walk the sort's index from the
    /// start and test each row against the search (it cannot see that the matches of a
    /// word cluster in the alphabet: "smith" sorted by last name took 1.6 s at 1M
    /// users; sorting the 14,000 matches takes 20 ms). SQLite's searches start from
    /// the FTS index anyway.
    pub fn sort_matches(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("({expr} || '')"),
            Dialect::Sqlite => expr.to_string(),
        }
    }

    /// What a `SELECT` ends with to hold its rows until the transaction ends, so that
    /// commands on one user run one after another. `NO KEY UPDATE` (not `UPDATE`):
    /// rows that merely point at the user (a tag link, a session) are still inserted
    /// meanwhile, so a bulk tagging or a sign-in never waits on it or deadlocks with
    /// it. SQLite needs nothing: its write transactions take the database's one write
    /// lock when they begin ([`crate::backend::db::begin_write`]).
    pub fn row_lock(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR NO KEY UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// Whether a large export reads each user's tags, groups and devices from one
    /// aggregate per table merged in user order (PostgreSQL plans merge joins over the
    /// primary keys) rather than a lookup per user (SQLite's fast path).
    pub fn merges_aggregates(self) -> bool {
        self == Dialect::Postgres
    }

    /// What makes a claiming sub-select skip the rows another server's transaction has
    /// locked (SQLite has one writer at a time, so nothing to skip).
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }

    /// The statement of `sql`. SQLite gets anonymous `?` placeholders (text order and
    /// bind order agree by construction): sqlx asks SQLite for every parameter's name,
    /// and SQLite finds a numbered parameter's name by a linear scan, which made
    /// binding a many-row INSERT quadratic. PostgreSQL keeps `$1, $2, ...`.
    pub fn statement(self, sql: Sql) -> Statement {
        let (text, values) = sql.into_parts();
        let text = match self {
            Dialect::Sqlite => super::sql::anonymous_placeholders(&text),
            Dialect::Postgres => text,
        };
        Statement::from_sql_and_values(self.backend(), text, values)
    }

    /// `expr` compared byte by byte, as SQLite compares text (PostgreSQL's default
    /// collation would order by locale).
    pub fn bytewise(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("{expr} COLLATE \"C\""),
            Dialect::Sqlite => expr.to_string(),
        }
    }

    /// What follows `ASC`/`DESC` so that NULL sorts lowest, SQLite's rule (first
    /// ascending, last descending).
    pub fn nulls_lowest(self, descending: bool) -> &'static str {
        match (self, descending) {
            (Dialect::Postgres, false) => " NULLS FIRST",
            (Dialect::Postgres, true) => " NULLS LAST",
            (Dialect::Sqlite, _) => "",
        }
    }

    /// `expr` as text, empty for NULL (JSON columns included).
    pub fn text_or_empty(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("coalesce({expr}::text, '')"),
            Dialect::Sqlite => format!("coalesce({expr}, '')"),
        }
    }

    /// A bound JSON value (or NULL) for a JSON column: JSONB on PostgreSQL, text on SQLite.
    pub fn json_value(self, value: Option<serde_json::Value>) -> Sql {
        let mut s = Sql::default();
        match value {
            None => {
                s.push("NULL");
            }
            Some(v) => {
                s.bind(v.to_string());
                s.push(self.json_cast_suffix());
            }
        }
        s
    }

    /// What turns a bound JSON text into a value of a JSON column.
    pub fn json_cast_suffix(self) -> &'static str {
        match self {
            Dialect::Postgres => "::jsonb",
            Dialect::Sqlite => "",
        }
    }

    /// `expr` (JSON text, e.g. a temporary table's TEXT column) as a JSON column value.
    pub fn json_from_text(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({expr} AS jsonb)"),
            Dialect::Sqlite => expr.to_string(),
        }
    }

    /// A JSON column `expr` in a JSON document being built (SQLite's text must be
    /// parsed to nest as JSON rather than as a string).
    pub fn json_nested(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => expr.to_string(),
            Dialect::Sqlite => format!("json({expr})"),
        }
    }

    /// A boolean column `expr` as a JSON true or false in a document being built.
    pub fn json_bool(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => expr.to_string(),
            Dialect::Sqlite => format!("json(CASE WHEN {expr} THEN 'true' ELSE 'false' END)"),
        }
    }

    /// A JSON document `expr` read as its text.
    pub fn json_text(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("{expr}::text"),
            Dialect::Sqlite => expr.to_string(),
        }
    }

    /// The SQL function building a JSON object from key/value pairs.
    pub fn json_object_fn(self) -> &'static str {
        match self {
            Dialect::Postgres => "jsonb_build_object",
            Dialect::Sqlite => "json_object",
        }
    }

    /// The SQL function building a JSON array from its arguments.
    pub fn json_array_fn(self) -> &'static str {
        match self {
            Dialect::Postgres => "json_build_array",
            Dialect::Sqlite => "json_array",
        }
    }

    /// An aggregate: the JSON array of `expr` ordered by `order`, `[]` when no row.
    pub fn json_agg_ordered(self, expr: &str, order: &str) -> String {
        match self {
            Dialect::Postgres => {
                format!("coalesce(jsonb_agg({expr} ORDER BY {order}), '[]'::jsonb)")
            }
            Dialect::Sqlite => format!("json(json_group_array({expr} ORDER BY {order}))"),
        }
    }

    /// An aggregate: the texts of `expr` joined by the character with code `separator`.
    pub fn text_agg(self, expr: &str, separator: u32) -> String {
        match self {
            Dialect::Postgres => format!("string_agg({expr}, chr({separator}))"),
            Dialect::Sqlite => format!("group_concat({expr}, char({separator}))"),
        }
    }

    /// The member `key` (a checked identifier) of the JSON object in column `col`,
    /// `as_json` keeping a JSON value (numbers compare numerically on PostgreSQL),
    /// otherwise text compared bytewise.
    pub fn json_member(self, col: &str, key: &str, as_json: bool) -> String {
        match self {
            Dialect::Postgres if as_json => format!("({col} -> '{key}')"),
            Dialect::Postgres => format!("(({col} ->> '{key}') COLLATE \"C\")"),
            // The `->>` operator rather than json_extract(): on SQLite 3.51 an index on
            // json_extract() made the next INSERT on every other open connection fail
            // with "no such table: users" once, while it reloaded the schema.
            Dialect::Sqlite => format!("({col} ->> '$.{key}')"),
        }
    }

    /// A condition: the JSON object in `col` has the member `key` (a checked identifier).
    pub fn json_has(self, col: &str, key: &str) -> String {
        match self {
            Dialect::Postgres => format!("jsonb_exists({col}, '{key}')"),
            Dialect::Sqlite => format!("json_type({col}, '$.{key}') IS NOT NULL"),
        }
    }

    /// A condition: the JSON object in `col` has the member named by `key` (bound).
    pub fn json_has_bound(self, col: &str, key: &str) -> Sql {
        let mut s = Sql::default();
        match self {
            Dialect::Postgres => s.push(&format!("jsonb_exists({col}, ")).bind(key).push(")"),
            Dialect::Sqlite => s
                .push(&format!("json_type({col}, '$.' || "))
                .bind(key)
                .push(") IS NOT NULL"),
        };
        s
    }

    /// The member named by `key` (bound) of the JSON object in `col`, as JSON text.
    pub fn json_member_text_bound(self, col: &str, key: &str) -> Sql {
        let mut s = Sql::default();
        match self {
            Dialect::Postgres => s
                .push(&format!("CAST({col} -> "))
                .bind(key)
                .push(" AS TEXT)"),
            Dialect::Sqlite => s.push(&format!("{col} -> ('$.' || ")).bind(key).push(")"),
        };
        s
    }

    /// `col` with the member named by `key` set to `value` (both bound).
    pub fn json_set_bound(self, col: &str, key: &str, value: &serde_json::Value) -> Sql {
        let mut s = Sql::default();
        match self {
            Dialect::Postgres => s
                .push(&format!("jsonb_set({col}, ARRAY["))
                .bind(key)
                .push("], ")
                .bind(value.to_string())
                .push("::jsonb)"),
            Dialect::Sqlite => s
                .push(&format!("json_set({col}, '$.' || "))
                .bind(key)
                .push(", json(")
                .bind(value.to_string())
                .push("))"),
        };
        s
    }

    /// A bound number as a value comparable with a number member of
    /// [`Dialect::json_member`] (`as_json`).
    pub fn json_number(self, value: sea_orm::Value) -> Sql {
        let mut s = Sql::default();
        match self {
            Dialect::Postgres => s
                .push("to_jsonb(CAST(")
                .bind(value)
                .push(" AS double precision))"),
            Dialect::Sqlite => s.bind(value),
        };
        s
    }

    /// A bound yes/no as a boolean member of [`Dialect::json_member`] reads (text on
    /// PostgreSQL, 1 or 0 on SQLite).
    pub fn json_member_bool(self, yes: bool) -> Sql {
        let mut s = Sql::default();
        match self {
            Dialect::Postgres => s.bind(if yes { "true" } else { "false" }),
            Dialect::Sqlite => s.bind(i32::from(yes)),
        };
        s
    }

    /// A condition: the JSON list at member `key` (a checked identifier) of the object
    /// in `col` holds any of `values` (`negate`: none of them, also when absent).
    pub fn json_list_has_any(self, col: &str, key: &str, values: Vec<String>, negate: bool) -> Sql {
        let mut s = Sql::default();
        match self {
            Dialect::Postgres => {
                s.push(if negate { "NOT coalesce((" } else { "((" });
                for (i, value) in values.into_iter().enumerate() {
                    if i > 0 {
                        s.push(" OR ");
                    }
                    s.push(&format!("({col} -> '{key}') @> jsonb_build_array(CAST("))
                        .bind(value)
                        .push(" AS TEXT))");
                }
                s.push(if negate { "), FALSE)" } else { "))" });
            }
            Dialect::Sqlite => {
                s.push(&format!(
                    "{}EXISTS (SELECT 1 FROM json_each({col}, '$.{key}') AS picked WHERE picked.value IN (",
                    if negate { "NOT " } else { "" }
                ))
                .bind_list(values)
                .push("))");
            }
        }
        s
    }

    /// The integer type of a temporary table's id columns.
    pub fn id_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "BIGINT",
            Dialect::Sqlite => "INTEGER",
        }
    }

    /// `CREATE TEMPORARY TABLE name (columns)` that lasts until the transaction ends:
    /// PostgreSQL drops it at commit, SQLite needs [`Dialect::drop_temp_table`].
    pub fn create_temp_table(self, name: &str, columns: &str) -> String {
        let tail = match self {
            Dialect::Postgres => " ON COMMIT DROP",
            Dialect::Sqlite => "",
        };
        format!("CREATE TEMPORARY TABLE {name} ({columns}){tail}")
    }

    /// What drops a [`Dialect::create_temp_table`] table before commit, where needed
    /// (SQLite keeps temporary tables per connection, and the pool reuses it).
    pub fn drop_temp_table(self, name: &str) -> Option<String> {
        match self {
            Dialect::Sqlite => Some(format!("DROP TABLE IF EXISTS temp.{name}")),
            Dialect::Postgres => None,
        }
    }

    pub fn search_index(self) -> SearchIndex {
        match self {
            Dialect::Sqlite => SearchIndex::Fts5,
            Dialect::Postgres => SearchIndex::Trigram,
        }
    }
}

/// Something a statement can be made of: a [`Sql`] (moved) or a reference to one
/// (its values copied).
pub trait IntoSql {
    fn into_sql(self) -> Sql;
}

impl IntoSql for Sql {
    fn into_sql(self) -> Sql {
        self
    }
}

impl IntoSql for &Sql {
    fn into_sql(self) -> Sql {
        self.clone()
    }
}

impl IntoSql for &mut Sql {
    fn into_sql(self) -> Sql {
        self.clone()
    }
}

/// Runs a [`Sql`] on a connection or transaction, in that connection's dialect.
pub trait Run: ConnectionTrait {
    fn dialect(&self) -> Dialect {
        Dialect::of(self)
    }

    /// Every row of a query.
    fn all(
        &self,
        sql: impl IntoSql,
    ) -> impl Future<Output = Result<Vec<QueryResult>, DbErr>> + Send {
        self.query_all_raw(self.dialect().statement(sql.into_sql()))
    }

    /// The first row of a query, if any.
    fn one(
        &self,
        sql: impl IntoSql,
    ) -> impl Future<Output = Result<Option<QueryResult>, DbErr>> + Send {
        self.query_one_raw(self.dialect().statement(sql.into_sql()))
    }

    /// A statement that returns no rows.
    fn exec(&self, sql: impl IntoSql) -> impl Future<Output = Result<ExecResult, DbErr>> + Send {
        self.execute_raw(self.dialect().statement(sql.into_sql()))
    }

    /// Every row of a query as `T` (columns by name).
    fn all_as<T: FromQueryResult + Send>(
        &self,
        sql: impl IntoSql,
    ) -> impl Future<Output = Result<Vec<T>, DbErr>> + Send {
        let rows = self.all(sql);
        async move {
            rows.await?
                .iter()
                .map(|r| T::from_query_result(r, ""))
                .collect()
        }
    }

    /// The first row of a query as `T`, if any.
    fn one_as<T: FromQueryResult + Send>(
        &self,
        sql: impl IntoSql,
    ) -> impl Future<Output = Result<Option<T>, DbErr>> + Send {
        let row = self.one(sql);
        async move { row.await?.map(|r| T::from_query_result(&r, "")).transpose() }
    }
}

impl<C: ConnectionTrait> Run for C {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_gets_anonymous_placeholders_postgres_numbered() {
        let mut s = Sql::new("INSERT INTO t VALUES (");
        s.bind_list([1_i64, 2, 3]).push(") -- $ stays");
        let mut tail = Sql::new(" AND x = ");
        tail.bind(4_i64);
        s.append(&tail);
        assert_eq!(
            Dialect::Sqlite.statement(s.clone()).sql,
            "INSERT INTO t VALUES (?, ?, ?) -- $ stays AND x = ?"
        );
        let pg = Dialect::Postgres.statement(s);
        assert_eq!(
            pg.sql,
            "INSERT INTO t VALUES ($1, $2, $3) -- $ stays AND x = $4"
        );
        assert_eq!(pg.values.map(|v| v.0.len()), Some(4));
    }

    #[test]
    fn null_sorts_lowest_on_both() {
        assert_eq!(Dialect::Sqlite.nulls_lowest(false), "");
        assert_eq!(Dialect::Postgres.nulls_lowest(false), " NULLS FIRST");
        assert_eq!(Dialect::Postgres.nulls_lowest(true), " NULLS LAST");
    }

    #[test]
    fn temp_tables_last_until_commit() {
        assert!(Dialect::Postgres
            .create_temp_table("t", "id BIGINT")
            .ends_with("ON COMMIT DROP"));
        assert_eq!(Dialect::Postgres.drop_temp_table("t"), None);
        assert_eq!(
            Dialect::Sqlite.drop_temp_table("t").as_deref(),
            Some("DROP TABLE IF EXISTS temp.t")
        );
    }
}
