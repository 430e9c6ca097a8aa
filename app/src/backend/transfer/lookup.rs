//! What an import reads from the database about the users, roles, tags and groups
//! its rows name, in chunks of [`LOOKUP`] values per query.

use std::collections::{BTreeMap, HashMap};

use sea_orm::DatabaseTransaction;

use super::import::{Existing, Role, LOOKUP};
use crate::backend::dialect::Run;
use crate::backend::memberships::Link;
use crate::backend::sql::Sql;
use crate::backend::ServiceError;
use crate::domain::permissions::ADMIN_ACCESS;
use crate::domain::transfer::ImportRow;

pub(super) async fn existing_users(
    txn: &DatabaseTransaction,
    rows: &[ImportRow],
) -> Result<HashMap<String, Existing>, ServiceError> {
    let emails: Vec<String> = rows
        .iter()
        .filter_map(|r| r.email.as_ref().map(|e| e.as_str().to_string()))
        .collect();
    let mut out = HashMap::with_capacity(emails.len());
    for chunk in emails.chunks(LOOKUP) {
        let mut q = Sql::new(
            "SELECT id, email, username, phone, first_name, last_name, job_title, company, address, language, \
             status, role_id, balance, email_opt_in, note, CAST(attributes AS TEXT) AS attributes_json \
             FROM users WHERE email IN (",
        );
        q.bind_list(chunk.iter().cloned()).push(")");
        for r in txn.all(q).await? {
            out.insert(
                r.try_get::<String>("", "email")?,
                Existing {
                    id: r.try_get("", "id")?,
                    username: r.try_get("", "username")?,
                    phone: r.try_get("", "phone")?,
                    first_name: r.try_get("", "first_name")?,
                    last_name: r.try_get("", "last_name")?,
                    job_title: r.try_get("", "job_title")?,
                    company: r.try_get("", "company")?,
                    address: r.try_get("", "address")?,
                    language: r.try_get("", "language")?,
                    status: r.try_get("", "status")?,
                    role_id: r.try_get("", "role_id")?,
                    balance: r.try_get("", "balance")?,
                    email_opt_in: r.try_get("", "email_opt_in")?,
                    note: r.try_get("", "note")?,
                    attributes: serde_json::from_str(&r.try_get::<String>("", "attributes_json")?)
                        .unwrap_or_default(),
                },
            );
        }
    }
    Ok(out)
}

/// Who owns the rows' usernames (`u:<lower>`) and phones (`p:<e164>`): key -> email.
pub(super) async fn identity_owners(
    txn: &DatabaseTransaction,
    rows: &[ImportRow],
) -> Result<HashMap<String, String>, ServiceError> {
    let usernames: Vec<String> = rows
        .iter()
        .filter_map(|r| r.username.as_ref().map(|u| u.as_str().to_lowercase()))
        .collect();
    let phones: Vec<String> = rows
        .iter()
        .filter_map(|r| r.phone.as_ref().map(|p| p.as_str().to_string()))
        .collect();
    let mut out = HashMap::new();
    for (prefix, values, sql) in [
        (
            "u",
            &usernames,
            "SELECT lower(username) AS k, email FROM users WHERE lower(username) IN (",
        ),
        (
            "p",
            &phones,
            "SELECT phone AS k, email FROM users WHERE phone IN (",
        ),
    ] {
        for chunk in values.chunks(LOOKUP) {
            let mut q = Sql::new(sql);
            q.bind_list(chunk.iter().cloned()).push(")");
            for r in txn.all(q).await? {
                out.insert(
                    format!("{prefix}:{}", r.try_get::<String>("", "k")?),
                    r.try_get::<String>("", "email")?,
                );
            }
        }
    }
    Ok(out)
}

/// Every role by lower-cased name.
pub(super) async fn roles(
    txn: &DatabaseTransaction,
) -> Result<HashMap<String, Role>, ServiceError> {
    let mut q = Sql::new(
        "SELECT roles.id, roles.name, EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = roles.id AND rp.permission = ",
    );
    q.bind(ADMIN_ACCESS).push(") AS admin FROM roles");
    let mut out = HashMap::new();
    for r in txn.all(q).await? {
        let name: String = r.try_get("", "name")?;
        out.insert(
            name.to_lowercase(),
            Role {
                id: r.try_get("", "id")?,
                name,
                admin: r.try_get("", "admin")?,
            },
        );
    }
    Ok(out)
}

/// Existing tags or groups among `names`: lower-cased name -> id.
pub(super) async fn known_names(
    txn: &DatabaseTransaction,
    link: Link,
    names: &BTreeMap<String, String>,
) -> Result<HashMap<String, i64>, ServiceError> {
    let table = if link == Link::Tags { "tags" } else { "groups" };
    let keys: Vec<String> = names.keys().cloned().collect();
    let mut out = HashMap::new();
    for chunk in keys.chunks(LOOKUP) {
        let mut q = Sql::new(&format!(
            "SELECT id, lower(name) AS k FROM {table} WHERE lower(name) IN ("
        ));
        q.bind_list(chunk.iter().cloned()).push(")");
        for r in txn.all(q).await? {
            out.insert(r.try_get::<String>("", "k")?, r.try_get::<i64>("", "id")?);
        }
    }
    Ok(out)
}

/// The current tag or group names of `ids`.
pub(super) async fn current_links(
    txn: &DatabaseTransaction,
    link: Link,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>, ServiceError> {
    let (table, join, key) = match link {
        Link::Tags => ("tags", "user_tags", "tag_id"),
        Link::Groups => ("groups", "user_groups", "group_id"),
    };
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(LOOKUP) {
        let mut q = Sql::new(&format!(
            "SELECT j.user_id, t.name FROM {join} j JOIN {table} t ON t.id = j.{key} WHERE j.user_id IN ("
        ));
        q.bind_list(chunk.iter().copied())
            .push(") ORDER BY j.user_id, lower(t.name)");
        for r in txn.all(q).await? {
            out.entry(r.try_get("", "user_id")?)
                .or_default()
                .push(r.try_get("", "name")?);
        }
    }
    Ok(out)
}
