//! Defining custom profile fields: list, create, change (label, type, choices,
//! required, searchable), reorder and archive. A type or choices change is refused
//! while any user's value would not convert, naming how many; otherwise the values
//! are converted in the same transaction. Every change is audited.

use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::dialect::Run;
use super::entities::profile_field;
use super::sql::Sql;
use super::{audit, field_sql, now, ServiceError};
use crate::domain::fields::{
    parse_choices, parse_key, parse_label, FieldDef, FieldForm, FieldKind, MAX_FIELDS,
};
use crate::domain::AdminInfo;

fn field_from(m: profile_field::Model) -> Result<FieldDef, ServiceError> {
    Ok(FieldDef {
        kind: FieldKind::parse(&m.kind)
            .ok_or_else(|| anyhow::anyhow!("unknown field kind {}", m.kind))?,
        choices: serde_json::from_value(m.choices).map_err(anyhow::Error::from)?,
        id: m.id,
        key: m.key,
        label: m.label,
        required: m.required,
        searchable: m.searchable,
        position: i64::from(m.position),
        archived: m.archived,
    })
}

/// Every field in order; archived ones only when asked for.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    archived: bool,
) -> Result<Vec<FieldDef>, ServiceError> {
    let mut q = profile_field::Entity::find();
    if !archived {
        q = q.filter(profile_field::Column::Archived.eq(false));
    }
    q.order_by_asc(profile_field::Column::Position)
        .order_by_asc(profile_field::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(field_from)
        .collect()
}

async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<FieldDef, ServiceError> {
    let m = profile_field::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("Field {id}")))?;
    field_from(m)
}

/// The form's label, kind and choices, every error at once.
fn parse_form(form: &FieldForm) -> Result<(String, FieldKind, Vec<String>), ServiceError> {
    let mut errors = crate::domain::FieldErrors::new();
    let label = parse_label(&form.label)
        .map_err(|e| errors.insert("label".into(), vec![e]))
        .ok();
    let kind = FieldKind::parse(&form.kind);
    if kind.is_none() {
        errors.insert("kind".into(), vec!["Choose a type.".into()]);
    }
    let choices = kind
        .map(|k| parse_choices(k, &form.choices))
        .transpose()
        .map_err(|e| errors.insert("choices".into(), vec![e]))
        .ok()
        .flatten();
    match (label, kind, choices) {
        (Some(l), Some(k), Some(c)) if errors.is_empty() => Ok((l, k, c)),
        _ => Err(ServiceError::Validation(errors)),
    }
}

fn snapshot(f: &FieldDef) -> serde_json::Value {
    json!({
        "key": f.key, "label": f.label, "kind": f.kind.as_str(), "choices": f.choices,
        "required": f.required, "searchable": f.searchable, "archived": f.archived,
    })
}

/// Defines a new field at the end of the list.
pub async fn create(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    form: &FieldForm,
) -> Result<FieldDef, ServiceError> {
    let key = parse_key(&form.key);
    let parsed = parse_form(form);
    let (key, (label, kind, choices)) = match (key, parsed) {
        (Ok(k), Ok(p)) => (k, p),
        (key, parsed) => {
            let mut errors = match parsed {
                Err(ServiceError::Validation(e)) => e,
                _ => Default::default(),
            };
            if let Err(e) = key {
                errors.insert("key".into(), vec![e]);
            }
            return Err(ServiceError::Validation(errors));
        }
    };
    let field = audit::command(db, actor, async |txn| {
        let existing = list(txn, true).await?;
        if existing.iter().any(|f| f.key == key) {
            return Err(ServiceError::field(
                "key",
                format!("A field with the key {key} exists (perhaps archived)."),
            ));
        }
        if existing.len() >= MAX_FIELDS {
            return Err(ServiceError::field(
                "key",
                format!("There can be at most {MAX_FIELDS} fields."),
            ));
        }
        let position = existing
            .iter()
            .map(|f| f.position)
            .max()
            .map_or(0, |p| p + 1);
        let row = profile_field::ActiveModel {
            key: Set(key.clone()),
            label: Set(label),
            kind: Set(kind.as_str().into()),
            choices: Set(json!(choices)),
            required: Set(form.required),
            searchable: Set(form.searchable),
            position: Set(position as i32),
            archived: Set(false),
            created_at: Set(now()),
            ..Default::default()
        };
        let id = profile_field::Entity::insert(row)
            .exec(txn)
            .await?
            .last_insert_id;
        let field = get(txn, id).await?;
        field_sql::ensure_index(txn, &field).await?;
        let entry = audit::Entry::new("field.create", None, None, Some(snapshot(&field)));
        Ok((field, entry))
    })
    .await?;
    field_sql::refresh_connections(db).await;
    Ok(field)
}

/// Every user's value of field `key`, as (user id, JSON value).
async fn values<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Vec<(i64, serde_json::Value)>, ServiceError> {
    let dialect = db.dialect();
    let mut q = Sql::new("SELECT id, ");
    q.append(&dialect.json_member_text_bound("attributes", key))
        .push(" AS v FROM users WHERE ")
        .append(&dialect.json_has_bound("attributes", key));
    db.all(&q)
        .await?
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("", "id")?;
            let text: Option<String> = r.try_get("", "v")?;
            let value = text
                .map(|t| serde_json::from_str(&t).map_err(anyhow::Error::from))
                .transpose()?
                .unwrap_or(serde_json::Value::Null);
            Ok((id, value))
        })
        .collect()
}

/// Writes user `id`'s value of field `key` (JSON null removes it).
async fn set_value<C: ConnectionTrait>(
    db: &C,
    id: i64,
    key: &str,
    value: &serde_json::Value,
) -> Result<(), ServiceError> {
    let mut s = Sql::new("UPDATE users SET attributes = ");
    s.append(&db.dialect().json_set_bound("attributes", key, value))
        .push(" WHERE id = ")
        .bind(id);
    db.exec(&s).await?;
    Ok(())
}

/// Changes a field's label, type, choices, required and searchable (its key is
/// fixed). A new type or a shorter choice list is refused while any user's value
/// would not convert; otherwise the values are converted with it.
pub async fn update(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
    form: &FieldForm,
) -> Result<FieldDef, ServiceError> {
    let (label, kind, choices) = parse_form(form)?;
    let (before, after) = audit::command(db, actor, async |txn| {
        let before = get(txn, id).await?;
        if !form.key.trim().is_empty() && form.key.trim() != before.key {
            return Err(ServiceError::field(
                "key",
                "A field's key is fixed: files and integrations use it.",
            ));
        }
        if kind != before.kind || choices != before.choices {
            let current = values(txn, &before.key).await?;
            let bad: Vec<String> = current
                .iter()
                .filter(|(_, v)| !before.converts(v, kind, &choices))
                .map(|(_, v)| before.value_text(v))
                .collect();
            if !bad.is_empty() {
                let mut examples: Vec<String> =
                    bad.iter().take(3).map(|v| format!("\"{v}\"")).collect();
                examples.dedup();
                let what = if kind.has_choices() && kind == before.kind {
                    "are not among the new choices".to_string()
                } else {
                    format!("do not convert to {}", kind.label().to_lowercase())
                };
                return Err(ServiceError::field(
                    "kind",
                    format!(
                        "{} user{} {what} (for example {}). Change or clear those values first.",
                        bad.len(),
                        if bad.len() == 1 {
                            " has a value that"
                        } else {
                            "s have values that"
                        },
                        examples.join(", ")
                    )
                    .replace("value that do", "value that does")
                    .replace("value that are", "value that is"),
                ));
            }
            let target = FieldDef {
                kind,
                choices: choices.clone(),
                ..before.clone()
            };
            // The index expression depends on the type (numbers compare as numbers).
            field_sql::drop_index(txn, &before).await?;
            for (user, v) in &current {
                if let Some(converted) = target.parse_value(&before.value_text(v)).ok().flatten() {
                    if &converted != v {
                        set_value(txn, *user, &before.key, &converted).await?;
                    }
                }
            }
        }
        let changed = profile_field::ActiveModel {
            label: Set(label),
            kind: Set(kind.as_str().into()),
            choices: Set(json!(choices)),
            required: Set(form.required),
            searchable: Set(form.searchable),
            ..Default::default()
        };
        profile_field::Entity::update_many()
            .set(changed)
            .filter(profile_field::Column::Id.eq(id))
            .exec(txn)
            .await?;
        let after = get(txn, id).await?;
        field_sql::ensure_index(txn, &after).await?;
        if field_sql::in_search(&before) != field_sql::in_search(&after) {
            field_sql::reindex_search(txn, &after).await?;
        }
        let entry = change("field.update", &before, &after);
        Ok(((before, after), entry))
    })
    .await?;
    if after.kind != before.kind {
        field_sql::refresh_connections(db).await;
    }
    Ok(after)
}

/// The audit entry of a field's change, when there is one.
fn change(action: &'static str, before: &FieldDef, after: &FieldDef) -> Option<audit::Entry> {
    (after != before)
        .then(|| audit::Entry::new(action, None, Some(snapshot(before)), Some(snapshot(after))))
}

/// Archives (hides, keeping the data) or restores a field.
pub async fn set_archived(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
    archived: bool,
) -> Result<FieldDef, ServiceError> {
    audit::command(db, actor, async |txn| {
        let before = get(txn, id).await?;
        profile_field::Entity::update_many()
            .col_expr(profile_field::Column::Archived, archived.into())
            .filter(profile_field::Column::Id.eq(id))
            .exec(txn)
            .await?;
        let after = get(txn, id).await?;
        if field_sql::in_search(&before) != field_sql::in_search(&after) {
            field_sql::reindex_search(txn, &after).await?;
        }
        let action = if archived {
            "field.archive"
        } else {
            "field.restore"
        };
        let entry = change(action, &before, &after);
        Ok((after, entry))
    })
    .await
}

/// Puts the fields in the order of `ids` (fields not named keep their place after).
pub async fn reorder(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    ids: &[i64],
) -> Result<Vec<FieldDef>, ServiceError> {
    audit::command(db, actor, async |txn| {
        let before = list(txn, true).await?;
        let mut order: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| before.iter().any(|f| f.id == *id))
            .collect();
        let rest: Vec<i64> = before
            .iter()
            .map(|f| f.id)
            .filter(|id| !order.contains(id))
            .collect();
        order.extend(rest);
        for (position, id) in order.iter().enumerate() {
            profile_field::Entity::update_many()
                .col_expr(profile_field::Column::Position, (position as i32).into())
                .filter(profile_field::Column::Id.eq(*id))
                .exec(txn)
                .await?;
        }
        let after = list(txn, true).await?;
        let keys = |v: &[FieldDef]| {
            json!({ "order": v.iter().map(|f| f.key.clone()).collect::<Vec<_>>() })
        };
        let entry = (keys(&before) != keys(&after)).then(|| {
            audit::Entry::new(
                "field.reorder",
                None,
                Some(keys(&before)),
                Some(keys(&after)),
            )
        });
        Ok((after, entry))
    })
    .await
}

/// Every field's index, for databases whose fields predate them; cheap when present.
pub async fn ensure_all_indexes<C: ConnectionTrait>(db: &C) -> Result<(), ServiceError> {
    for def in list(db, true).await? {
        field_sql::ensure_index(db, &def).await?;
    }
    Ok(())
}
