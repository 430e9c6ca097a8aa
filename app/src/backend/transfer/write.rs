//! Writing an import's plan (see [`super::import`]): the new users in batches, the
//! updated ones through a temporary table and one UPDATE, their tags, groups and
//! passwords, and one audit entry per user, all inside the import's transaction.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;

use super::import::{Values, Write, LOOKUP};
use super::Reporter;
use crate::backend::auth::hash_password;
use crate::backend::bulk_load::BulkLoad;
use crate::backend::dialect::Run;
use crate::backend::memberships::{ensure_named, Link};
use crate::backend::sql::Sql;
use crate::backend::{audit, now, ServiceError};
use crate::domain::AdminInfo;

/// Rows per multi-row INSERT.
const BATCH: usize = 400;

impl Values {
    /// Binds username through email_opt_in, each followed by ", " (the run of
    /// columns the users INSERT and the update table share).
    fn bind_fields(&self, s: &mut Sql) {
        s.bind(self.username.clone())
            .push(", ")
            .bind(self.phone.clone())
            .push(", ")
            .bind(self.first_name.clone())
            .push(", ")
            .bind(self.last_name.clone())
            .push(", ")
            .bind(self.job_title.clone())
            .push(", ")
            .bind(self.company.clone())
            .push(", ")
            .bind(self.address.clone())
            .push(", ")
            .bind(self.language.clone())
            .push(", ")
            .bind(self.status.clone())
            .push(", ")
            .bind(self.role_id)
            .push(", ")
            .bind(self.balance)
            .push(", ")
            .bind(self.email_opt_in)
            .push(", ");
    }
}

/// Hashes the rows' passwords on blocking threads, one per core.
async fn password_hashes(writes: &[Write<'_>]) -> Result<HashMap<u64, String>, ServiceError> {
    let jobs: Vec<(u64, String)> = writes
        .iter()
        .filter_map(|w| w.row.password.clone().map(|p| (w.row.line, p)))
        .collect();
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let per = jobs.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .chunks(per.max(1))
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|(line, p)| hash_password(p).map(|h| (*line, h)))
                            .collect::<anyhow::Result<Vec<_>>>()
                    })
                })
                .collect();
            let mut out = HashMap::new();
            for h in handles {
                let part = h
                    .join()
                    .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))??;
                out.extend(part);
            }
            Ok::<_, anyhow::Error>(out)
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("password hashing task failed: {e}"))?
    .map_err(ServiceError::from)
}

pub(super) async fn write_all(
    txn: &DatabaseTransaction,
    actor: &AdminInfo,
    writes: &mut [Write<'_>],
    progress: &Reporter<'_>,
) -> Result<(), ServiceError> {
    let dialect = txn.dialect();
    let at = now();
    let total = writes.len() as u64;
    let hashes = password_hashes(writes).await?;
    progress.report("Writing users", 0, total);
    let bulk = BulkLoad::begin(txn).await?;

    // New users.
    let mut done = 0u64;
    let new: Vec<usize> = (0..writes.len())
        .filter(|i| writes[*i].id.is_none())
        .collect();
    for chunk in new.chunks(BATCH) {
        let mut s = Sql::new(
            "INSERT INTO users (email, username, phone, first_name, last_name, job_title, company, address, \
             language, status, role_id, balance, email_opt_in, email_opt_in_changed_at, note, attributes, \
             password_hash, signup_source, created_at, updated_at) VALUES ",
        );
        for (n, i) in chunk.iter().enumerate() {
            let w = &writes[*i];
            let v = &w.values;
            s.push(if n == 0 { "(" } else { ", (" })
                .bind(w.email.clone())
                .push(", ");
            v.bind_fields(&mut s);
            s.bind(at)
                .push(", ")
                .bind(v.note.clone())
                .push(", ")
                .bind(json!(v.attributes).to_string())
                .push(dialect.json_cast_suffix())
                .push(", ")
                .bind(hashes.get(&w.row.line).cloned())
                .push(", 'import', ")
                .bind(at)
                .push(", ")
                .bind(at)
                .push(")");
        }
        s.push(" RETURNING id, email");
        let ids: HashMap<String, i64> = txn
            .all(s)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String>("", "email")?,
                    r.try_get::<i64>("", "id")?,
                ))
            })
            .collect::<Result<_, sea_orm::DbErr>>()?;
        for i in chunk {
            writes[*i].id = ids.get(&writes[*i].email).copied();
        }
        done += chunk.len() as u64;
        progress.report("Writing users", done, total);
    }
    // Updated users: final values into a temporary table, then one UPDATE ... FROM.
    let updated: Vec<usize> = (0..writes.len())
        .filter(|i| {
            writes[*i]
                .changed
                .iter()
                .any(|f| !matches!(f.as_str(), "tags" | "groups"))
        })
        .collect();
    if !updated.is_empty() {
        let int = dialect.id_type();
        txn.execute_unprepared(&dialect.create_temp_table(
            "import_updates",
            &format!(
                "id {int} PRIMARY KEY, username TEXT, phone TEXT, \
                 first_name TEXT NOT NULL, last_name TEXT NOT NULL, job_title TEXT NOT NULL, company TEXT NOT NULL, \
                 address TEXT NOT NULL, language TEXT NOT NULL, status TEXT NOT NULL, role_id {int} NOT NULL, \
                 balance BIGINT NOT NULL, email_opt_in BOOLEAN NOT NULL, note TEXT NOT NULL, password_hash TEXT, attributes TEXT"
            ),
        ))
        .await?;
        for chunk in updated.chunks(BATCH) {
            let mut s = Sql::new(
                "INSERT INTO import_updates (id, username, phone, first_name, last_name, job_title, company, \
                 address, language, status, role_id, balance, email_opt_in, note, password_hash, attributes) VALUES ",
            );
            for (n, i) in chunk.iter().enumerate() {
                let w = &writes[*i];
                let v = &w.values;
                s.push(if n == 0 { "(" } else { ", (" })
                    .bind(w.id.unwrap_or_default())
                    .push(", ");
                v.bind_fields(&mut s);
                s.bind(v.note.clone())
                    .push(", ")
                    .bind(hashes.get(&w.row.line).cloned())
                    .push(", ")
                    .bind(json!(v.attributes).to_string())
                    .push(")");
            }
            txn.exec(s).await?;
        }
        let mut u = Sql::new(
            "UPDATE users SET username = u.username, phone = u.phone, first_name = u.first_name, \
             last_name = u.last_name, job_title = u.job_title, company = u.company, address = u.address, \
             language = u.language, status = u.status, role_id = u.role_id, balance = u.balance, \
             email_opt_in_changed_at = CASE WHEN users.email_opt_in <> u.email_opt_in THEN ",
        );
        let attributes = format!(
            "coalesce({}, users.attributes)",
            dialect.json_from_text("u.attributes")
        );
        u.bind(at).push(&format!(
            " ELSE users.email_opt_in_changed_at END, email_opt_in = u.email_opt_in, note = u.note, \
             password_hash = coalesce(u.password_hash, users.password_hash), attributes = {attributes}, \
             must_change_password = CASE WHEN u.password_hash IS NULL THEN users.must_change_password ELSE "
        ));
        u.bind(false)
            .push(" END, updated_at = ")
            .bind(at)
            .push(", version = users.version + 1 FROM import_updates u WHERE users.id = u.id");
        txn.exec(&u).await?;
        // A new password ends the user's sessions.
        txn.execute_unprepared(
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM import_updates WHERE password_hash IS NOT NULL)",
        )
        .await?;
        progress.report("Writing users", total, total);
    }

    // Tags and groups, and their names as stored (by lower-case name) for the audit.
    let mut stored: HashMap<Link, HashMap<String, String>> = HashMap::new();
    for link in [Link::Tags, Link::Groups] {
        let pick = |w: &Write| {
            if link == Link::Tags {
                w.set_tags
            } else {
                w.set_groups
            }
        };
        let rows: Vec<(i64, bool, &Vec<String>)> = writes
            .iter()
            .filter(|w| pick(w))
            .filter_map(|w| {
                let names = if link == Link::Tags {
                    w.row.tags.as_ref()
                } else {
                    w.row.groups.as_ref()
                };
                Some((w.id?, w.changed.is_empty(), names?))
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let all = names_in_lists(rows.iter().map(|r| r.2));
        let mut ids: HashMap<String, i64> = HashMap::new();
        let all_names: Vec<String> = all.values().cloned().collect();
        for chunk in all_names.chunks(BATCH) {
            for r in ensure_named(txn, link, chunk).await? {
                ids.insert(r.name.to_lowercase(), r.id);
                stored
                    .entry(link)
                    .or_default()
                    .insert(r.name.to_lowercase(), r.name);
            }
        }
        let (join, key) = match link {
            Link::Tags => ("user_tags", "tag_id"),
            Link::Groups => ("user_groups", "group_id"),
        };
        let replaced: Vec<i64> = rows.iter().filter(|r| !r.1).map(|r| r.0).collect();
        for chunk in replaced.chunks(LOOKUP) {
            let mut d = Sql::new(&format!("DELETE FROM {join} WHERE user_id IN ("));
            d.bind_list(chunk.iter().copied()).push(")");
            txn.exec(&d).await?;
        }
        let pairs: Vec<(i64, i64)> = rows
            .iter()
            .flat_map(|(user, _, names)| {
                let ids = &ids;
                names
                    .iter()
                    .filter_map(move |n| ids.get(&n.to_lowercase()).map(|t| (*user, *t)))
            })
            .collect();
        for chunk in pairs.chunks(BATCH * 4) {
            let mut s = Sql::new(&format!("INSERT INTO {join} (user_id, {key}) VALUES "));
            for (n, (user, id)) in chunk.iter().enumerate() {
                s.push(if n == 0 { "(" } else { ", (" })
                    .bind(*user)
                    .push(", ")
                    .bind(*id)
                    .push(")");
            }
            s.push(" ON CONFLICT DO NOTHING");
            txn.exec(s).await?;
        }
    }
    if let Some(bulk) = bulk {
        let updated = (!updated.is_empty()).then_some("SELECT id FROM import_updates");
        bulk.finish(txn, updated).await?;
    }
    // One audit entry per created user, with what was written (its tags and groups
    // as stored), and one per updated user with the fields before and after. Each
    // kind is one batch, listed once in the log.
    let roles: HashMap<i64, String> = txn
        .all(Sql::new("SELECT id, name FROM roles"))
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "id")?,
                r.try_get::<String>("", "name")?,
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()?;
    let names = |link: Link, list: Option<&Vec<String>>| {
        let mut out: Vec<String> = list
            .into_iter()
            .flatten()
            .filter_map(|n| stored.get(&link)?.get(&n.to_lowercase()).cloned())
            .collect();
        out.sort_by_key(|n| n.to_lowercase());
        out.dedup();
        out
    };
    let created: Vec<(&Write, serde_json::Value)> = writes
        .iter()
        .filter(|w| w.changed.is_empty() && w.id.is_some())
        .map(|w| {
            let v = &w.values;
            let snapshot = json!({
                "email": w.email,
                "first_name": v.first_name,
                "last_name": v.last_name,
                "username": v.username,
                "phone": v.phone,
                "status": v.status,
                "role": roles.get(&v.role_id),
                "tags": if w.set_tags { names(Link::Tags, w.row.tags.as_ref()) } else { Vec::new() },
                "groups": if w.set_groups { names(Link::Groups, w.row.groups.as_ref()) } else { Vec::new() },
                "fields": v.attributes,
                "source": "import",
            });
            (w, snapshot)
        })
        .collect();
    let updates: Vec<(&Write, serde_json::Value)> = writes
        .iter()
        .filter(|w| !w.changed.is_empty())
        .map(|w| (w, json!(w.after)))
        .collect();
    for (action, entries) in [("user.create", created), ("user.import", updates)] {
        let batch = match entries.len() {
            0 => continue,
            1 => None,
            _ => Some(audit::open_batch(txn).await?),
        };
        for chunk in entries.chunks(BATCH) {
            let mut s = Sql::new(
                "INSERT INTO audit_log (at, actor_id, actor_email, action, batch_id, target_user_id, target_email, before, after) VALUES ",
            );
            for (n, (w, after)) in chunk.iter().enumerate() {
                let before = (action == "user.import").then(|| json!(w.before));
                s.push(if n == 0 { "(" } else { ", (" })
                    .bind(at)
                    .push(", ")
                    .bind(actor.id)
                    .push(", ")
                    .bind(actor.email.clone())
                    .push(", ")
                    .bind(action)
                    .push(", ")
                    .bind(batch)
                    .push(", ")
                    .bind(w.id)
                    .push(", ")
                    .bind(w.email.clone())
                    .push(", ")
                    .append(&dialect.json_value(before))
                    .push(", ")
                    .append(&dialect.json_value(Some(after.clone())))
                    .push(")");
            }
            txn.exec(s).await?;
        }
        if let Some(batch) = batch {
            audit::close_batch(txn, batch, entries.len() as u64).await?;
        }
    }
    Ok(())
}

fn names_in_lists<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for list in lists {
        for n in list {
            out.entry(n.to_lowercase()).or_insert_with(|| n.clone());
        }
    }
    out
}
