//! One user's tags and groups: names resolved (and created inline) and the user's
//! set replaced, audited.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::audit::{self, Entry};
use super::authority::Authority;
use super::dialect::Run;
use super::sql::Sql;
use super::users::{lock_user, named_refs};
use super::{now, ServiceError};
use crate::domain::account::clean_names;
use crate::domain::{AdminInfo, NamedRef};

/// The two kinds of named labels a user can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    Tags,
    Groups,
}

impl Link {
    fn table(self) -> &'static str {
        match self {
            Link::Tags => "tags",
            Link::Groups => "groups",
        }
    }
    fn join_table(self) -> &'static str {
        match self {
            Link::Tags => "user_tags",
            Link::Groups => "user_groups",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Link::Tags => "tag_id",
            Link::Groups => "group_id",
        }
    }
    /// The audit action of setting a user's tags or groups.
    fn audit_action(self) -> &'static str {
        match self {
            Link::Tags => "user.tags",
            Link::Groups => "user.groups",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Link::Tags => "tags",
            Link::Groups => "groups",
        }
    }
}

/// The tags or groups named (case-insensitively), creating those that do not exist.
pub async fn ensure_named<C: ConnectionTrait>(
    db: &C,
    link: Link,
    names: &[String],
) -> Result<Vec<NamedRef>, ServiceError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let table = link.table();
    let mut insert = Sql::new(&format!("INSERT INTO {table} (name, created_at) VALUES "));
    let at = now();
    for (i, n) in names.iter().enumerate() {
        insert
            .push(if i == 0 { "(" } else { ", (" })
            .bind(n.as_str())
            .push(", ")
            .bind(at)
            .push(")");
    }
    insert.push(" ON CONFLICT DO NOTHING");
    db.exec(&insert).await?;
    let mut q = Sql::new(&format!(
        "SELECT id, name FROM {table} WHERE lower(name) IN ("
    ));
    q.bind_list(names.iter().map(|n| n.to_lowercase()))
        .push(")");
    let found = named_refs(db, q).await?;
    // In the order asked for.
    Ok(names
        .iter()
        .filter_map(|n| {
            found
                .iter()
                .find(|f| f.name.to_lowercase() == n.to_lowercase())
                .cloned()
        })
        .collect())
}

pub(crate) async fn link_all<C: ConnectionTrait>(
    db: &C,
    link: Link,
    user_id: i64,
    refs: &[NamedRef],
) -> Result<(), ServiceError> {
    if refs.is_empty() {
        return Ok(());
    }
    let mut s = Sql::new(&format!(
        "INSERT INTO {} (user_id, {}) VALUES ",
        link.join_table(),
        link.key()
    ));
    for (i, r) in refs.iter().enumerate() {
        s.push(if i == 0 { "(" } else { ", (" })
            .bind(user_id)
            .push(", ")
            .bind(r.id)
            .push(")");
    }
    s.push(" ON CONFLICT DO NOTHING");
    db.exec(&s).await?;
    Ok(())
}

async fn linked<C: ConnectionTrait>(
    db: &C,
    link: Link,
    user_id: i64,
) -> Result<Vec<NamedRef>, ServiceError> {
    let mut q = Sql::new(&format!(
        "SELECT t.id, t.name FROM {} t JOIN {} j ON j.{} = t.id WHERE j.user_id = ",
        link.table(),
        link.join_table(),
        link.key()
    ));
    q.bind(user_id).push(" ORDER BY lower(t.name)");
    named_refs(db, q).await
}

/// Gives user `id` exactly these tags (or groups), creating missing ones; returns
/// the user's new set.
pub async fn set_links(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    link: Link,
    id: i64,
    names: &[String],
) -> Result<Vec<NamedRef>, ServiceError> {
    let names = clean_names(names).map_err(|e| ServiceError::field(link.field(), e))?;
    audit::command(db, actor, async |txn| {
        Authority::load(txn, actor)
            .await?
            .may_act_on_user(txn, id)
            .await?;
        // The whole list is replaced: concurrent sets on one user take turns, or
        // PostgreSQL's snapshots let two delete and then both insert (a mixture).
        // Only after the authority check: nobody holds a user they may not act on.
        let email = lock_user(txn, id).await?;
        let before = linked(txn, link, id).await?;
        let wanted = ensure_named(txn, link, &names).await?;
        let mut del = Sql::new(&format!(
            "DELETE FROM {} WHERE user_id = ",
            link.join_table()
        ));
        del.bind(id);
        if !wanted.is_empty() {
            del.push(&format!(" AND {} NOT IN (", link.key()))
                .bind_list(wanted.iter().map(|w| w.id))
                .push(")");
        }
        txn.exec(&del).await?;
        link_all(txn, link, id, &wanted).await?;
        let after = linked(txn, link, id).await?;
        let names = |v: &[NamedRef]| json!({ link.field(): v.iter().map(|r| r.name.clone()).collect::<Vec<_>>() });
        let entry = (before != after).then(|| {
            Entry::on(link.audit_action(), id, &email)
                .before(names(&before))
                .after(names(&after))
        });
        Ok((after, entry))
    })
    .await
}
