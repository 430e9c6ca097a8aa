//! Writing users: the "New user" batch (all or nothing) and the drawer's edit with
//! optimistic concurrency. Every command runs in one transaction and writes its audit
//! entries.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use serde_json::json;

use super::audit::{self, Entry};
use super::auth::{hash_off_runtime, temporary_password};
use super::authority::{Authority, OwnerGuard};
use super::dialect::{Dialect, Run};
use super::memberships::{ensure_named, link_all, Link};
use super::sql::{rows, Sql};
use super::{now, Config, ServiceError};
use crate::domain::account::{
    parse_new_users, row_key, Identities, NewUserForm, PasswordChoice, UserEdit, UserEditForm,
};
use crate::domain::{AdminInfo, CreatedUser, FieldErrors, Status};

/// How many users exist (from the per-status counters).
pub(crate) async fn user_total<C: ConnectionTrait>(db: &C) -> Result<i64, ServiceError> {
    let row = db
        .one(Sql::new("SELECT coalesce(sum(n), 0) AS n FROM user_counts"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count row"))?;
    Ok(super::users::read_count(&row)? as i64)
}

/// Creates every user of the form, or none: field errors name the user (`"1.email"`).
/// With a seat quota, creating past it is refused.
pub async fn create_users(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AdminInfo,
    forms: &[NewUserForm],
) -> Result<Vec<CreatedUser>, ServiceError> {
    // Formats, duplicates within the form, custom fields, roles and identities already
    // taken are all checked before anything is refused: one submit shows every error.
    let parsed = parse_new_users(forms);
    let mut errors = match &parsed {
        Ok(_) => FieldErrors::new(),
        // Nothing to check row by row (no rows, or too many).
        Err(e) if e.contains_key("form") => return Err(ServiceError::Validation(e.clone())),
        Err(e) => e.clone(),
    };
    // Custom field values, checked by type; required fields must be given.
    let fields = super::fields::list(db, false).await?;
    let mut attributes = Vec::new();
    for (i, form) in forms.iter().enumerate() {
        let values = match crate::domain::fields::apply_values(
            &fields,
            &BTreeMap::new(),
            &form.attributes,
        ) {
            Ok(values) => values,
            Err(e) => {
                errors.extend(e.into_iter().map(|(k, m)| (row_key(i, &k), m)));
                BTreeMap::new()
            }
        };
        for f in fields
            .iter()
            .filter(|f| f.required && !values.contains_key(&f.key))
        {
            errors
                .entry(row_key(i, &crate::domain::fields::error_key(&f.key)))
                .or_insert_with(|| vec!["Enter a value: this field is required.".into()]);
        }
        attributes.push(values);
    }
    let mut role_names = Vec::new();
    let authority = Authority::load(db, actor).await?;
    for (i, form) in forms.iter().enumerate() {
        if form.role_id <= 0 {
            // Refused by the parse already ("Choose a role.").
            role_names.push(String::new());
            continue;
        }
        match authority.may_give(form.role_id, &row_key(i, "role")) {
            Ok(name) => role_names.push(name),
            Err(ServiceError::Validation(e)) => {
                for (key, messages) in e {
                    errors.entry(key).or_default().extend(messages);
                }
                role_names.push(String::new());
            }
            Err(other) => return Err(other),
        }
    }
    let identities: Vec<Identities> = forms.iter().map(NewUserForm::identities).collect();
    taken_identities(db, &identities, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let users = parsed.map_err(ServiceError::Validation)?;
    // Hash before the transaction: it takes tens of milliseconds per password.
    let mut secrets = Vec::new();
    for u in &users {
        let (hash, shown) = match u.password_choice {
            PasswordChoice::Invite => (None, None),
            PasswordChoice::Set => (
                Some(hash_off_runtime(u.password.as_deref().unwrap_or_default()).await?),
                None,
            ),
            PasswordChoice::Generate => {
                let p = temporary_password();
                (Some(hash_off_runtime(&p).await?), Some(p))
            }
        };
        secrets.push((hash, shown));
    }

    audit::command(db, actor, async |txn| {
        if let Some(max) = config.max_users {
            let total = user_total(txn).await?;
            if total + users.len() as i64 > max as i64 {
                let left = (max as i64 - total).max(0);
                return Err(ServiceError::field(
                    "form",
                    format!(
                        "The seat quota is {max} users and {total} exist, so {left} more can be created. \
                         Remove users or raise --max-users."
                    ),
                ));
            }
        }
        let dialect = txn.dialect();
        let at = now();
        let mut created = Vec::new();
        let mut entries = Vec::new();
        for (((u, (hash, shown)), role), values) in
            users.iter().zip(secrets).zip(role_names).zip(attributes)
        {
            let status = match u.password_choice {
                PasswordChoice::Invite => Status::Invited,
                _ => Status::Active,
            };
            let mut s = Sql::new(
                "INSERT INTO users (email, username, phone, first_name, last_name, language, status, role_id, \
                 password_hash, must_change_password, signup_source, created_at, updated_at, attributes) VALUES (",
            );
            s.bind(u.email.as_str())
                .push(", ")
                .bind(u.username.as_ref().map(|n| n.as_str().to_string()))
                .push(", ")
                .bind(u.phone.as_ref().map(|p| p.as_str().to_string()))
                .push(", ")
                .bind(u.first_name.as_str())
                .push(", ")
                .bind(u.last_name.as_str())
                .push(", ")
                .bind(u.language.as_str())
                .push(", ")
                .bind(status.as_str())
                .push(", ")
                .bind(u.role_id)
                .push(", ")
                .bind(hash)
                .push(", ")
                .bind(shown.is_some())
                .push(", 'admin', ")
                .bind(at)
                .push(", ")
                .bind(at)
                .push(", ")
                .append(&dialect.json_value(Some(json!(values))))
                .push(") RETURNING id");
            let id: i64 = txn
                .one(&s)
                .await
                .map_err(|e| {
                    ServiceError::unique(
                        e,
                        "Another admin just created a user with the same email, username or phone. Check the list and try again.",
                    )
                })?
                .ok_or_else(|| anyhow::anyhow!("insert returned no id"))?
                .try_get("", "id")?;
            let groups = ensure_named(txn, Link::Groups, &u.groups).await?;
            link_all(txn, Link::Groups, id, &groups).await?;
            if u.password_choice == PasswordChoice::Invite {
                super::links::queue_invitation(txn, config, id).await?;
            }
            let mut user = CreatedUser {
                id,
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                email: u.email.as_str().to_string(),
                username: u.username.as_ref().map(|n| n.as_str().to_string()),
                phone: u.phone.as_ref().map(|p| p.as_str().to_string()),
                role,
                status,
                groups: groups.iter().map(|g| g.name.clone()).collect(),
                temporary_password: None,
            };
            let mut after = serde_json::to_value(&user).map_err(anyhow::Error::from)?;
            after["password"] = json!(u.password_choice.as_str());
            entries.push(Entry::on("user.create", id, &user.email).after(after));
            user.temporary_password = shown;
            created.push(user);
        }
        Ok((created, entries))
    })
    .await
}

/// Adds "already used" errors for emails, usernames and phones that exist.
async fn taken_identities<C: ConnectionTrait>(
    db: &C,
    given: &[Identities],
    errors: &mut FieldErrors,
) -> Result<(), ServiceError> {
    let emails: Vec<String> = given.iter().filter_map(|r| r.email.clone()).collect();
    let usernames: Vec<String> = given.iter().filter_map(|r| r.username.clone()).collect();
    let phones: Vec<String> = given.iter().filter_map(|r| r.phone.clone()).collect();
    if emails.is_empty() && usernames.is_empty() && phones.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new(
        "SELECT email, lower(coalesce(username, '')) AS username, coalesce(phone, '') AS phone \
         FROM users WHERE 1 = 0",
    );
    for (column, values) in [
        ("email", emails),
        ("lower(username)", usernames),
        ("phone", phones),
    ] {
        if !values.is_empty() {
            q.push(&format!(" OR {column} IN ("))
                .bind_list(values)
                .push(")");
        }
    }
    let existing = rows(db.all(&q).await?, |r| {
        Ok((
            r.try_get::<String>("", "email")?,
            r.try_get::<String>("", "username")?,
            r.try_get::<String>("", "phone")?,
        ))
    })?;
    for (i, row) in given.iter().enumerate() {
        let mut add = |field: &str, msg: &str| {
            errors
                .entry(row_key(i, field))
                .or_default()
                .push(msg.to_string())
        };
        if let Some(e) = &row.email {
            if existing.iter().any(|(x, _, _)| x == e) {
                add("email", "A user with this email already exists.");
            }
        }
        if let Some(n) = &row.username {
            if existing.iter().any(|(_, x, _)| x == n) {
                add("username", "This username is taken.");
            }
        }
        if let Some(p) = &row.phone {
            if existing.iter().any(|(_, _, x)| x == p) {
                add("phone", "This phone number belongs to another user.");
            }
        }
    }
    Ok(())
}

/// The fields the edit form can change, as JSON (for the audit diff).
const EDITABLE: [&str; 12] = [
    "first_name",
    "last_name",
    "username",
    "phone",
    "job_title",
    "company",
    "address",
    "language",
    "role_id",
    "balance",
    "email_opt_in",
    "note",
];

fn current_values(
    r: &QueryResult,
) -> Result<BTreeMap<&'static str, serde_json::Value>, ServiceError> {
    let text = |c: &str| r.try_get::<String>("", c).map(|v| json!(v));
    let opt = |c: &str| r.try_get::<Option<String>>("", c).map(|v| json!(v));
    Ok(BTreeMap::from([
        ("first_name", text("first_name")?),
        ("last_name", text("last_name")?),
        ("username", opt("username")?),
        ("phone", opt("phone")?),
        ("job_title", text("job_title")?),
        ("company", text("company")?),
        ("address", text("address")?),
        ("language", text("language")?),
        ("role_id", json!(r.try_get::<i64>("", "role_id")?)),
        ("balance", json!(r.try_get::<i64>("", "balance")?)),
        (
            "email_opt_in",
            json!(r.try_get::<bool>("", "email_opt_in")?),
        ),
        ("note", text("note")?),
    ]))
}

fn edit_values(e: &UserEdit) -> BTreeMap<&'static str, serde_json::Value> {
    BTreeMap::from([
        ("first_name", json!(e.first_name)),
        ("last_name", json!(e.last_name)),
        ("username", json!(e.username.as_ref().map(|n| n.as_str()))),
        ("phone", json!(e.phone.as_ref().map(|p| p.as_str()))),
        ("job_title", json!(e.job_title)),
        ("company", json!(e.company)),
        ("address", json!(e.address)),
        ("language", json!(e.language)),
        ("role_id", json!(e.role_id)),
        ("balance", json!(e.balance)),
        ("email_opt_in", json!(e.email_opt_in)),
        ("note", json!(e.note)),
    ])
}

/// Saves the drawer's edit of user `id`. The form carries the version it was loaded
/// with; if the user changed since, nothing is written and a `Conflict` says so.
/// Email is not part of the form: it is fixed once created.
pub async fn update_user(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
    form: UserEditForm,
) -> Result<(), ServiceError> {
    let raw_attributes = form.attributes.clone();
    let edit = UserEdit::try_from(form).map_err(ServiceError::Validation)?;
    audit::command(db, actor, async |txn| {
        let dialect = txn.dialect();
        let mut q = Sql::new(
            "SELECT *, CAST(attributes AS TEXT) AS attributes_json FROM users WHERE id = ",
        );
        q.bind(id);
        let row = txn
            .one(&q)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("User {id}")))?;
        let version: i32 = row.try_get("", "version")?;
        let email: String = row.try_get("", "email")?;
        let authority = Authority::load(txn, actor).await?;
        authority.check_role_of(id, row.try_get("", "role_id")?)?;
        if version != edit.version {
            return Err(stale(&email));
        }
        let before = current_values(&row)?;
        let after = edit_values(&edit);
        let changed: Vec<&str> = EDITABLE
            .into_iter()
            .filter(|k| before.get(k) != after.get(k))
            .collect();
        let old_attributes = super::users::attributes_of(&row)?;
        let fields = super::fields::list(txn, false).await?;
        let mut errors = FieldErrors::new();
        let new_attributes =
            match crate::domain::fields::apply_values(&fields, &old_attributes, &raw_attributes) {
                Ok(v) => v,
                Err(e) => {
                    errors.extend(e);
                    old_attributes.clone()
                }
            };
        if changed.is_empty() && errors.is_empty() && new_attributes == old_attributes {
            return Ok(((), None));
        }
        if changed.contains(&"role_id") {
            if id == actor.id {
                errors.insert(
                    "role".into(),
                    vec!["You cannot change your own role.".into()],
                );
            } else {
                match authority.may_give(edit.role_id, "role") {
                    Ok(_) => {}
                    Err(ServiceError::Validation(e)) => errors.extend(e),
                    Err(other) => return Err(other),
                }
            }
        }
        for (field, value, message) in [
            (
                "username",
                edit.username.as_ref().map(|n| n.as_str().to_lowercase()),
                "This username is taken.",
            ),
            (
                "phone",
                edit.phone.as_ref().map(|p| p.as_str().to_string()),
                "This phone number belongs to another user.",
            ),
        ] {
            let Some(value) = value.filter(|_| changed.contains(&field)) else {
                continue;
            };
            let column = if field == "username" {
                "lower(username)"
            } else {
                "phone"
            };
            let mut q = Sql::new(&format!(
                "SELECT count(*) AS n FROM users WHERE {column} = "
            ));
            q.bind(value).push(" AND id <> ").bind(id);
            let n: i64 = txn
                .one(&q)
                .await?
                .map(|r| r.try_get("", "n"))
                .transpose()?
                .unwrap_or(0);
            if n > 0 {
                errors.insert(field.into(), vec![message.into()]);
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let owners = OwnerGuard::start(txn).await?;
        let at = now();
        let mut u = Sql::new("UPDATE users SET first_name = ");
        u.bind(edit.first_name.as_str())
            .push(", last_name = ")
            .bind(edit.last_name.as_str())
            .push(", username = ")
            .bind(edit.username.as_ref().map(|n| n.as_str().to_string()))
            .push(", phone = ")
            .bind(edit.phone.as_ref().map(|p| p.as_str().to_string()))
            .push(", job_title = ")
            .bind(edit.job_title.as_str())
            .push(", company = ")
            .bind(edit.company.as_str())
            .push(", address = ")
            .bind(edit.address.as_str())
            .push(", language = ")
            .bind(edit.language.as_str())
            .push(", role_id = ")
            .bind(edit.role_id)
            .push(", balance = ")
            .bind(edit.balance)
            .push(", note = ")
            .bind(edit.note.as_str())
            .push(", email_opt_in = ")
            .bind(edit.email_opt_in);
        if new_attributes != old_attributes {
            u.push(", attributes = ")
                .append(&dialect.json_value(Some(json!(new_attributes))));
        }
        if changed.contains(&"email_opt_in") {
            u.push(", email_opt_in_changed_at = ").bind(at);
        }
        u.push(", updated_at = ")
            .bind(at)
            .push(", version = version + 1 WHERE id = ")
            .bind(id)
            .push(" AND version = ")
            .bind(edit.version);
        let result = txn.exec(&u).await.map_err(|e| {
            ServiceError::unique(e, "The username or phone was just taken by another user.")
        })?;
        if result.rows_affected() == 0 {
            return Err(stale(&email));
        }
        let pick = |m: &BTreeMap<&str, serde_json::Value>,
                    attributes: &BTreeMap<String, serde_json::Value>| {
            let mut object: serde_json::Map<String, serde_json::Value> = changed
                .iter()
                .map(|k| (k.to_string(), m[k].clone()))
                .collect();
            let fields: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .filter(|f| old_attributes.get(&f.key) != new_attributes.get(&f.key))
                .map(|f| {
                    let v = attributes.get(&f.key).cloned().unwrap_or_default();
                    (f.key.clone(), v)
                })
                .collect();
            if !fields.is_empty() {
                object.insert("fields".into(), serde_json::Value::Object(fields));
            }
            serde_json::Value::Object(object)
        };
        owners.check(txn).await?;
        let entry = Entry::on("user.update", id, &email)
            .before(pick(&before, &old_attributes))
            .after(pick(&after, &new_attributes));
        Ok(((), Some(entry)))
    })
    .await
}

fn stale(email: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "{email} was changed by someone else after you opened it. Your changes were not saved: \
         reload to see the current values, then edit again."
    ))
}

/// The SQL expression for a JSON snapshot of a users row, for audit entries.
pub fn user_snapshot_expr(dialect: Dialect) -> String {
    format!(
        "{}('email', users.email, 'first_name', users.first_name, 'last_name', users.last_name, \
         'username', users.username, 'phone', users.phone, 'status', users.status, 'role_id', users.role_id)",
        dialect.json_object_fn()
    )
}
