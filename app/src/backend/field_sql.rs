//! SQL for custom profile fields in the users table: the value expression of a field,
//! its index, its filter conditions and its sort order.
//!
//! Each field with a scalar type gets an expression index on `(value, id)` when it is
//! defined (`users_field_<id>_idx`), so a filter or sort on it walks an index like a
//! built-in column does. The query writes the value expression exactly as the index
//! does (SQLite and PostgreSQL match index expressions structurally). Keys are
//! `[a-z][a-z0-9_]*` (see `parse_key`), so they are written into the SQL text.

use sea_orm::ConnectionTrait;

use super::dialect::{Dialect, Run};
use super::sql::Sql;
use super::ServiceError;
use crate::domain::field_query::FieldCondition;
use crate::domain::fields::{FieldDef, FieldKind};

fn checked_key(def: &FieldDef) -> &str {
    debug_assert!(crate::domain::field_query::plausible_key(&def.key));
    &def.key
}

/// The field's value as SQL over `table`'s `attributes` column (`table` empty for an
/// index definition).
fn value_expr(dialect: Dialect, def: &FieldDef, table: &str) -> String {
    let key = checked_key(def);
    let col = if table.is_empty() {
        "attributes".to_string()
    } else {
        format!("{table}.attributes")
    };
    // Numbers stay JSON, which compares numbers numerically: a cast to a float could
    // fail, and CREATE INDEX also evaluates recently replaced row versions (a value
    // from before a type change).
    dialect.json_member(&col, key, def.kind == FieldKind::Number)
}

/// The field's value in a users query.
pub fn expr(dialect: Dialect, def: &FieldDef) -> String {
    value_expr(dialect, def, "users")
}

fn index_name(def: &FieldDef) -> String {
    format!("users_field_{}_idx", def.id)
}

/// Creates the field's expression index when its type has one (not for many
/// choices, whose value is a list).
pub async fn ensure_index<C: ConnectionTrait>(db: &C, def: &FieldDef) -> Result<(), ServiceError> {
    if def.kind == FieldKind::MultiChoice {
        return Ok(());
    }
    let dialect = db.dialect();
    // No value first ascending, as the queries sort.
    let nulls = dialect.nulls_lowest(false);
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS {} ON users ({}{nulls}, id)",
        index_name(def),
        value_expr(dialect, def, "")
    );
    db.execute_unprepared(&sql).await?;
    Ok(())
}

/// After an index was created or dropped (committed), lets every idle pooled SQLite
/// connection load the new schema with a harmless statement. On SQLite 3.51 the
/// first statement writing to `users` on a connection that last saw the schema before
/// an expression index was added fails once with "no such table: users"; this takes
/// that one failure here instead of in an admin's request. PostgreSQL needs nothing.
pub async fn refresh_connections(db: &sea_orm::DatabaseConnection) {
    use sea_orm::sqlx;
    if !db.dialect().is_sqlite() {
        return;
    }
    let pool = db.get_sqlite_connection_pool();
    let mut held = Vec::new();
    while let Some(mut conn) = pool.try_acquire() {
        for _ in 0..2 {
            if sqlx::query("UPDATE users SET id = id WHERE 0")
                .execute(&mut *conn)
                .await
                .is_ok()
            {
                break;
            }
        }
        held.push(conn);
    }
}

/// Drops the field's index (before its type changes).
pub async fn drop_index<C: ConnectionTrait>(db: &C, def: &FieldDef) -> Result<(), ServiceError> {
    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {}", index_name(def)))
        .await?;
    Ok(())
}

/// The defined choices named in `picked` (ignoring case), in the field's spelling.
fn known_choices(def: &FieldDef, picked: &[String]) -> Vec<String> {
    def.choices
        .iter()
        .filter(|c| picked.iter().any(|p| p.eq_ignore_ascii_case(c)))
        .cloned()
        .collect()
}

/// A bound of a number or date range as a typed value, if it parses.
fn bound(def: &FieldDef, raw: &Option<String>) -> Option<sea_orm::Value> {
    let value = def.parse_value(raw.as_deref()?).ok().flatten()?;
    match value {
        serde_json::Value::Number(n) => n.as_f64().map(Into::into),
        serde_json::Value::String(s) => Some(s.into()),
        _ => None,
    }
}

/// The SQL condition of `condition` on field `def`, or `None` when the condition does
/// not fit the field's type (it is then ignored, like other malformed URL values).
pub fn condition(dialect: Dialect, def: &FieldDef, condition: &FieldCondition) -> Option<Sql> {
    let e = expr(dialect, def);
    let mut s = Sql::default();
    match (def.kind, condition) {
        (FieldKind::Text, FieldCondition::Contains(text)) => {
            s.push(&format!("lower({e}) LIKE "))
                .bind(super::sql::like_pattern(&text.to_lowercase()))
                .push(" ESCAPE '\\'");
        }
        (FieldKind::Number | FieldKind::Date, FieldCondition::Range { from, to }) => {
            let (from, to) = (bound(def, from), bound(def, to));
            if from.is_none() && to.is_none() {
                return None;
            }
            // A number field's value is JSON, compared with a JSON number.
            let typed = |s: &mut Sql, v: sea_orm::Value| {
                if def.kind == FieldKind::Number {
                    s.append(&dialect.json_number(v));
                } else {
                    s.bind(v);
                }
            };
            s.push("(");
            if let Some(from) = from {
                s.push(&format!("{e} >= "));
                typed(&mut s, from);
            }
            if let Some(to) = to {
                if s.text().len() > 1 {
                    s.push(" AND ");
                }
                s.push(&format!("{e} <= "));
                typed(&mut s, to);
            }
            s.push(")");
        }
        (FieldKind::Bool, FieldCondition::Bool(yes)) => {
            s.push(&format!("{e} = "))
                .append(&dialect.json_member_bool(*yes));
        }
        (FieldKind::Choice, FieldCondition::Is(picked) | FieldCondition::IsNot(picked)) => {
            let known = known_choices(def, picked);
            let negate = matches!(condition, FieldCondition::IsNot(_));
            match (known.is_empty(), negate) {
                (true, false) => {
                    s.push("1 = 0");
                }
                (true, true) => return None,
                (false, false) => {
                    s.push(&format!("{e} IN (")).bind_list(known).push(")");
                }
                (false, true) => {
                    s.push(&format!("({e} IS NULL OR {e} NOT IN ("))
                        .bind_list(known)
                        .push("))");
                }
            }
        }
        (FieldKind::MultiChoice, FieldCondition::Is(picked) | FieldCondition::IsNot(picked)) => {
            let known = known_choices(def, picked);
            let negate = matches!(condition, FieldCondition::IsNot(_));
            if known.is_empty() {
                if negate {
                    return None;
                }
                s.push("1 = 0");
                return Some(s);
            }
            let key = checked_key(def);
            s.append(&dialect.json_list_has_any("users.attributes", key, known, negate));
        }
        _ => return None,
    }
    Some(s)
}

/// `ORDER BY` for a field: its value, then id; no value sorts first ascending on both
/// backends (SQLite's rule).
pub fn order_by(dialect: Dialect, def: &FieldDef, dir: &str) -> String {
    let nulls = dialect.nulls_lowest(dir != "ASC");
    format!(
        " ORDER BY {} {dir}{nulls}, users.id {dir}",
        expr(dialect, def)
    )
}

/// Whether the field's values are part of the users' search documents (the rule of
/// the search triggers in migration 5).
pub fn in_search(def: &FieldDef) -> bool {
    def.searchable
        && !def.archived
        && matches!(
            def.kind,
            FieldKind::Text | FieldKind::Choice | FieldKind::MultiChoice
        )
}

/// Rebuilds the search document of every user with a value of `def`, after the field
/// joined or left the search: re-writing `attributes` fires the search triggers.
pub async fn reindex_search<C: ConnectionTrait>(
    db: &C,
    def: &FieldDef,
) -> Result<(), ServiceError> {
    let key = checked_key(def);
    let sql = format!(
        "UPDATE users SET attributes = attributes WHERE {}",
        db.dialect().json_has("attributes", key)
    );
    db.execute_unprepared(&sql).await?;
    Ok(())
}
