//! Importing users from a file: upsert by email, all in one transaction.
//!
//! A preview and an apply run this same code, in one transaction: every row is
//! parsed and checked against the file and the database (emails, usernames and phones
//! taken, roles, required fields, the seat quota), and the plan of creates, updates,
//! tag and group changes is made, with the report. A preview stops there and rolls
//! back, having written nothing; an apply carries the plan out and commits. So the
//! preview's report is exactly what applying will do (against the data as it is then).
//!
//! On update an empty cell leaves the field as it is, and a non-empty tags or groups
//! cell replaces the user's tags or groups. An import never deletes a user.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde_json::{json, Value};

use super::lookup::{current_links, existing_users, identity_owners, known_names, roles};
use super::read::Table;
use super::write::write_all;
use super::Reporter;
use crate::backend::authority::{give_sentence, Authority, OwnerGuard};
use crate::backend::db::refresh_statistics;
use crate::backend::dialect::Run;
use crate::backend::memberships::Link;
use crate::backend::user_writes::user_total;
use crate::backend::{Config, ServiceError};
use crate::domain::fields::FieldDef;
use crate::domain::permissions::ROLES_MANAGE;
use crate::domain::transfer::{
    CellError, CreatedRow, FileColumn, Headers, ImportReport, ImportRow, RejectedRow, UpdatedRow,
    REPORT_CREATED_ROWS, REPORT_UPDATED_ROWS,
};
use crate::domain::{AdminInfo, Status};

/// Values per lookup query.
pub(super) const LOOKUP: usize = 5000;

/// What to do after checking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Write and commit (otherwise this is a preview: it writes nothing).
    pub apply: bool,
    /// Write the valid rows even when some are rejected (otherwise an apply with
    /// rejected rows writes nothing).
    pub skip_invalid: bool,
}

/// The report, and whether anything was committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub report: ImportReport,
    pub written: bool,
    /// Why an apply wrote nothing although its rows may be fine: its plan is not the
    /// one the stored preview showed.
    pub changed: Option<String>,
}

/// What an apply of a stored preview brings along.
#[derive(Clone, Copy, Debug)]
pub struct Previewed<'a> {
    /// The preview's report: the plan the apply must match.
    pub report: &'a ImportReport,
    /// The uploader, with the permissions both they and the applier hold.
    pub rights: &'a AdminInfo,
}

/// A user the file names that already exists.
#[derive(Clone, Debug)]
pub(super) struct Existing {
    pub(super) id: i64,
    pub(super) username: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) job_title: String,
    pub(super) company: String,
    pub(super) address: String,
    pub(super) language: String,
    pub(super) status: String,
    pub(super) role_id: i64,
    pub(super) balance: i64,
    pub(super) email_opt_in: bool,
    pub(super) note: String,
    pub(super) attributes: BTreeMap<String, Value>,
}

#[derive(Clone, Debug)]
pub(super) struct Role {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) admin: bool,
}

/// One user's final values (existing values where the file says nothing).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Values {
    pub(super) username: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) job_title: String,
    pub(super) company: String,
    pub(super) address: String,
    pub(super) language: String,
    pub(super) status: String,
    pub(super) role_id: i64,
    pub(super) balance: i64,
    pub(super) email_opt_in: bool,
    pub(super) note: String,
    /// Custom field values.
    pub(super) attributes: BTreeMap<String, Value>,
}

pub(super) struct Write<'a> {
    pub(super) row: &'a ImportRow,
    pub(super) email: String,
    /// `None` for a new user.
    pub(super) id: Option<i64>,
    pub(super) values: Values,
    /// Changed fields (empty for a new user).
    pub(super) changed: Vec<String>,
    pub(super) before: BTreeMap<String, Value>,
    pub(super) after: BTreeMap<String, Value>,
    /// Whether the row's tags / groups replace the user's.
    pub(super) set_tags: bool,
    pub(super) set_groups: bool,
}

/// The rows refused so far, by line, each with every reason found.
#[derive(Debug, Default)]
struct Rejections(BTreeMap<u64, RejectedRow>);

impl Rejections {
    fn add(&mut self, line: u64, email: &str, column: &str, message: String) {
        self.0
            .entry(line)
            .or_insert_with(|| RejectedRow {
                line,
                email: email.to_string(),
                errors: Vec::new(),
            })
            .errors
            .push(CellError {
                column: column.to_string(),
                message,
            });
    }

    fn has(&self, line: u64) -> bool {
        self.0.contains_key(&line)
    }
}

/// The file's header text for `column` (or its key when the file lacks it).
fn header_of(headers: &Headers, column: FileColumn) -> String {
    headers
        .columns
        .iter()
        .position(|c| *c == Some(column))
        .map(|i| headers.names[i].clone())
        .unwrap_or_else(|| column.key().to_string())
}

/// The file's header text for custom field `key` (or the key).
fn field_header(headers: &Headers, key: &str) -> String {
    headers
        .fields
        .iter()
        .position(|k| k.as_deref() == Some(key))
        .map(|i| headers.names[i].clone())
        .unwrap_or_else(|| key.to_string())
}

/// The file's header text for a changed field: a built-in column or a custom field.
fn changed_header(headers: &Headers, field: &str) -> String {
    headers
        .columns
        .iter()
        .position(|c| c.is_some_and(|c| c.key() == field))
        .map(|i| headers.names[i].clone())
        .unwrap_or_else(|| field_header(headers, field))
}

fn email_of(r: &ImportRow) -> String {
    r.email
        .as_ref()
        .map(|e| e.as_str().to_string())
        .unwrap_or_default()
}

/// Checks `table` and writes it (see the module docs). Header problems are a
/// `Validation` error on `file`; a seat quota overrun is one on `quota`.
///
/// `actor` is whose rights the rows are checked with, and who the audit names. An
/// apply of a stored preview passes [`Previewed`]: then the rows are checked with the
/// uploader's rights (narrowed to the applier's), the audit names the applier, and a
/// plan that differs from the preview's writes nothing and says so.
/// Imports of at least this many rows bring the planner's statistics up to date after
/// they commit (smaller ones hardly change them).
const STATISTICS_AFTER: u64 = 10_000;

pub async fn run(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AdminInfo,
    table: &Table,
    options: Options,
    previewed: Option<Previewed<'_>>,
    progress: &Reporter<'_>,
) -> Result<Outcome, ServiceError> {
    let applier = actor;
    let actor = previewed.as_ref().map_or(actor, |p| p.rights);
    let expected = previewed.as_ref().map(|p| p.report);
    let fields = crate::backend::fields::list(db, false).await?;
    let keys: Vec<String> = fields.iter().map(|f| f.key.clone()).collect();
    let headers =
        Headers::parse_with(&table.headers, &keys).map_err(|m| ServiceError::field("file", m))?;
    let total = table.rows.len() as u64;
    let mut report = ImportReport {
        rows: total,
        ignored_columns: headers.unknown.clone(),
        read_only_columns: headers.read_only.clone(),
        ..ImportReport::default()
    };
    let mut rejected = Rejections::default();
    progress.report("Checking rows", 0, total);
    let mut parsed = parse_rows(table, &headers, &mut rejected, progress);
    reject_repeats(&parsed, &headers, &mut rejected);
    parsed.retain(|r| !rejected.has(r.line));

    // A preview only reads: it leaves SQLite's one write lock to others.
    let txn = if options.apply {
        crate::backend::db::begin_write(db).await?
    } else {
        db.begin().await?
    };
    let known = Known::load(&txn, &parsed, actor, fields).await?;
    let attributes = check_rows(&parsed, &headers, &known, actor, &mut rejected);
    parsed.retain(|r| !rejected.has(r.line));
    let links = Links::load(&txn, &parsed, &known, &mut report).await?;
    let mut writes = plan_writes(
        &parsed,
        &headers,
        &known,
        &links,
        attributes,
        &mut report,
        &mut rejected,
    );
    tally(&mut report, rejected, &writes);

    let refusal = match refusal(&report, expected, options) {
        Some(outcome) => Some(outcome),
        None => over_quota(&txn, config, &report).await?.map(Err),
    };
    if let Some(refused) = refusal {
        txn.rollback().await?;
        return refused;
    }
    if !options.apply {
        // A preview ends here, having written nothing: the report above is the
        // plan the writes below carry out, and every refusal the database could make
        // (a taken email, username or phone; an unknown role) was checked above.
        txn.rollback().await?;
        progress.report("Done", total, total);
        return Ok(Outcome {
            report,
            written: false,
            changed: None,
        });
    }
    let owners = OwnerGuard::start(&txn).await?;
    write_all(&txn, applier, &mut writes, progress).await?;
    owners.check(&txn).await?;
    if let Some(drop) = txn.dialect().drop_temp_table("import_updates") {
        txn.execute_unprepared(&drop).await?;
    }
    txn.commit().await?;
    if total >= STATISTICS_AFTER {
        progress.report("Updating statistics", total, total);
        refresh_statistics(db).await;
    }
    progress.report("Done", total, total);
    Ok(Outcome {
        report,
        written: true,
        changed: None,
    })
}

/// Each row read by the file's columns; a row with bad cells is refused with every
/// reason (named by its email cell, when it has one).
fn parse_rows(
    table: &Table,
    headers: &Headers,
    rejected: &mut Rejections,
    progress: &Reporter<'_>,
) -> Vec<ImportRow> {
    let total = table.rows.len() as u64;
    let email_at = headers
        .columns
        .iter()
        .position(|c| *c == Some(FileColumn::Email));
    let mut parsed = Vec::with_capacity(table.rows.len());
    for (i, (line, cells)) in table.rows.iter().enumerate() {
        match ImportRow::parse(*line, headers, cells) {
            Ok(row) => parsed.push(row),
            Err(errors) => {
                let email = email_at
                    .and_then(|i| cells.get(i))
                    .cloned()
                    .unwrap_or_default();
                for e in errors {
                    rejected.add(*line, email.trim(), &e.column, e.message);
                }
            }
        }
        if i % 10_000 == 9_999 {
            progress.report("Checking rows", i as u64 + 1, total);
        }
    }
    parsed
}

/// Refuses the second and later rows that name a user, username or phone an earlier
/// row of the file already named.
fn reject_repeats(parsed: &[ImportRow], headers: &Headers, rejected: &mut Rejections) {
    let n = parsed.len();
    let mut emails: HashMap<&str, u64> = HashMap::with_capacity(n);
    let mut usernames: HashMap<String, u64> = HashMap::with_capacity(n);
    let mut phones: HashMap<&str, u64> = HashMap::with_capacity(n);
    for r in parsed {
        let email = r.email.as_ref().map(|e| e.as_str()).unwrap_or_default();
        if let Some(first) = emails.get(email) {
            rejected.add(
                r.line,
                email,
                &header_of(headers, FileColumn::Email),
                format!("This email is also on line {first}; each user may appear once."),
            );
        } else {
            emails.insert(email, r.line);
        }
        if let Some(u) = &r.username {
            let key = u.as_str().to_lowercase();
            match usernames.get(&key) {
                Some(first) => rejected.add(
                    r.line,
                    email,
                    &header_of(headers, FileColumn::Username),
                    format!("The username {} is also on line {first}.", u.as_str()),
                ),
                None => {
                    usernames.insert(key, r.line);
                }
            }
        }
        if let Some(p) = &r.phone {
            match phones.get(p.as_str()) {
                Some(first) => rejected.add(
                    r.line,
                    email,
                    &header_of(headers, FileColumn::Phone),
                    format!("The phone {} is also on line {first}.", p.as_str()),
                ),
                None => {
                    phones.insert(p.as_str(), r.line);
                }
            }
        }
    }
}

/// What the database knows that the rows' checks need.
struct Known {
    fields: Vec<FieldDef>,
    /// The users the file names that exist, by email.
    existing: HashMap<String, Existing>,
    /// Who holds the rows' usernames and phones (see [`identity_owners`]).
    owners: HashMap<String, String>,
    roles: HashMap<String, Role>,
    authority: Authority,
    /// The role of new users whose row names none.
    default_role: Role,
}

impl Known {
    async fn load(
        txn: &DatabaseTransaction,
        parsed: &[ImportRow],
        actor: &AdminInfo,
        fields: Vec<FieldDef>,
    ) -> Result<Known, ServiceError> {
        let roles = roles(txn).await?;
        let default_role = roles
            .get("member")
            .or_else(|| roles.values().find(|r| !r.admin))
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no role without admin access exists"))?;
        Ok(Known {
            fields,
            existing: existing_users(txn, parsed).await?,
            owners: identity_owners(txn, parsed).await?,
            authority: Authority::load(txn, actor).await?,
            roles,
            default_role,
        })
    }

    fn role_name(&self, id: i64) -> String {
        self.roles
            .values()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    }
}

/// The per-row checks that need the database: custom field values (returned by line,
/// merged over the user's current ones), usernames and phones held by other users,
/// roles (known, and within the actor's rights), and what nobody may do to themselves.
fn check_rows(
    parsed: &[ImportRow],
    headers: &Headers,
    known: &Known,
    actor: &AdminInfo,
    rejected: &mut Rejections,
) -> HashMap<u64, BTreeMap<String, Value>> {
    let col = |c: FileColumn| header_of(headers, c);
    let roles = &known.roles;
    let mut attributes = HashMap::new();
    for r in parsed {
        let email = email_of(r);
        let old = known.existing.get(&email);
        let current = old.map(|o| o.attributes.clone()).unwrap_or_default();
        match crate::domain::fields::apply_values(&known.fields, &current, &r.attributes) {
            Ok(values) => {
                if old.is_none() {
                    for f in known
                        .fields
                        .iter()
                        .filter(|f| f.required && !values.contains_key(&f.key))
                    {
                        rejected.add(
                            r.line,
                            &email,
                            &field_header(headers, &f.key),
                            format!("{} is required for new users.", f.label),
                        );
                    }
                }
                attributes.insert(r.line, values);
            }
            Err(errors) => {
                for (key, messages) in errors {
                    let key = key.strip_prefix("field.").unwrap_or(&key).to_string();
                    for m in messages {
                        rejected.add(r.line, &email, &field_header(headers, &key), m);
                    }
                }
            }
        }
        let mut bad = |column: FileColumn, message: String| {
            rejected.add(r.line, &email, &col(column), message)
        };
        if let Some(u) = &r.username {
            if let Some(owner) = known
                .owners
                .get(&format!("u:{}", u.as_str().to_lowercase()))
            {
                if *owner != email {
                    bad(
                        FileColumn::Username,
                        format!("The username {} belongs to {owner}.", u.as_str()),
                    );
                }
            }
        }
        if let Some(p) = &r.phone {
            if let Some(owner) = known.owners.get(&format!("p:{}", p.as_str())) {
                if *owner != email {
                    bad(
                        FileColumn::Phone,
                        format!("The phone {} belongs to {owner}.", p.as_str()),
                    );
                }
            }
        }
        let old_role = old.and_then(|o| roles.values().find(|x| x.id == o.role_id));
        if let Some(name) = &r.role {
            match roles.get(name) {
                None => {
                    let mut names: Vec<&str> = roles.values().map(|x| x.name.as_str()).collect();
                    names.sort_unstable();
                    bad(
                        FileColumn::Role,
                        format!(
                            "No role is named \"{name}\"; the roles are {}.",
                            names.join(", ")
                        ),
                    );
                }
                Some(new_role) => {
                    let changes = old_role.map(|o| o.id) != Some(new_role.id);
                    if changes && old.is_some_and(|o| o.id == actor.id) {
                        bad(FileColumn::Role, "You cannot change your own role.".into());
                    } else if let Some(refusal) =
                        known.authority.refusal(new_role.id).filter(|_| changes)
                    {
                        bad(FileColumn::Role, give_sentence(&refusal));
                    }
                }
            }
        }
        if let (Some(status), Some(o)) = (r.status, old) {
            if status == Status::Banned && o.id == actor.id {
                bad(FileColumn::Status, "You cannot ban yourself.".into());
            }
        }
        if r.password.is_some() && r.send_invitation {
            bad(
                FileColumn::SendInvitation,
                "Give a password or send an invitation, not both.".into(),
            );
        }
    }
    attributes
}

/// The tags and groups the rows name: which are new (listed in the report), and the
/// current ones of each existing user whose row names some.
struct Links {
    tags: HashMap<i64, Vec<String>>,
    groups: HashMap<i64, Vec<String>>,
}

impl Links {
    async fn load(
        txn: &DatabaseTransaction,
        parsed: &[ImportRow],
        known: &Known,
        report: &mut ImportReport,
    ) -> Result<Links, ServiceError> {
        let tag_names = names_in(parsed, |r| r.tags.as_ref());
        let group_names = names_in(parsed, |r| r.groups.as_ref());
        let known_tags = known_names(txn, Link::Tags, &tag_names).await?;
        let known_groups = known_names(txn, Link::Groups, &group_names).await?;
        report.new_tags = tag_names
            .values()
            .filter(|n| !known_tags.contains_key(&n.to_lowercase()))
            .cloned()
            .collect();
        report.new_groups = group_names
            .values()
            .filter(|n| !known_groups.contains_key(&n.to_lowercase()))
            .cloned()
            .collect();
        let ids_with = |f: fn(&ImportRow) -> bool| -> Vec<i64> {
            parsed
                .iter()
                .filter(|r| f(r))
                .filter_map(|r| known.existing.get(&email_of(r)).map(|e| e.id))
                .collect()
        };
        Ok(Links {
            tags: current_links(txn, Link::Tags, &ids_with(|r| r.tags.is_some())).await?,
            groups: current_links(txn, Link::Groups, &ids_with(|r| r.groups.is_some())).await?,
        })
    }
}

/// One user's final values: the row's, and where it says nothing, the user's current
/// ones (or a new user's defaults).
fn values_of(
    r: &ImportRow,
    old: Option<&Existing>,
    roles: &HashMap<String, Role>,
    default_role: &Role,
    attributes: BTreeMap<String, Value>,
) -> Values {
    let role_id = r.role.as_ref().and_then(|n| roles.get(n)).map(|x| x.id);
    match old {
        Some(o) => Values {
            username: r
                .username
                .as_ref()
                .map(|u| u.as_str().to_string())
                .or_else(|| o.username.clone()),
            phone: r
                .phone
                .as_ref()
                .map(|p| p.as_str().to_string())
                .or_else(|| o.phone.clone()),
            first_name: r.first_name.clone().unwrap_or_else(|| o.first_name.clone()),
            last_name: r.last_name.clone().unwrap_or_else(|| o.last_name.clone()),
            job_title: r.job_title.clone().unwrap_or_else(|| o.job_title.clone()),
            company: r.company.clone().unwrap_or_else(|| o.company.clone()),
            address: r.address.clone().unwrap_or_else(|| o.address.clone()),
            language: r.language.clone().unwrap_or_else(|| o.language.clone()),
            status: r
                .status
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| o.status.clone()),
            role_id: role_id.unwrap_or(o.role_id),
            balance: r.balance.unwrap_or(o.balance),
            email_opt_in: r.email_opt_in.unwrap_or(o.email_opt_in),
            note: r.note.clone().unwrap_or_else(|| o.note.clone()),
            attributes,
        },
        None => Values {
            username: r.username.as_ref().map(|u| u.as_str().to_string()),
            phone: r.phone.as_ref().map(|p| p.as_str().to_string()),
            first_name: r.first_name.clone().unwrap_or_default(),
            last_name: r.last_name.clone().unwrap_or_default(),
            job_title: r.job_title.clone().unwrap_or_default(),
            company: r.company.clone().unwrap_or_default(),
            address: r.address.clone().unwrap_or_default(),
            language: r.language.clone().unwrap_or_else(|| "en".into()),
            status: match (r.status, r.send_invitation) {
                (Some(s), _) => s.as_str().to_string(),
                (None, true) => Status::Invited.as_str().to_string(),
                (None, false) => Status::Active.as_str().to_string(),
            },
            role_id: role_id.unwrap_or(default_role.id),
            balance: r.balance.unwrap_or(0),
            email_opt_in: r.email_opt_in.unwrap_or(false),
            note: r.note.clone().unwrap_or_default(),
            attributes,
        },
    }
}

/// What each row changes. A row that changes nothing counts as unchanged; a change
/// to an existing user the actor may not act on is refused, whichever columns it
/// changes.
fn plan_writes<'a>(
    parsed: &'a [ImportRow],
    headers: &Headers,
    known: &Known,
    links: &Links,
    mut attributes: HashMap<u64, BTreeMap<String, Value>>,
    report: &mut ImportReport,
    rejected: &mut Rejections,
) -> Vec<Write<'a>> {
    let fields = &known.fields;
    let authority = &known.authority;
    let (current_tags, current_groups) = (&links.tags, &links.groups);
    let role_name = |id: i64| known.role_name(id);
    let mut writes: Vec<Write> = Vec::new();
    for r in parsed {
        let email = email_of(r);
        let old = known.existing.get(&email);
        let values = values_of(
            r,
            old,
            &known.roles,
            &known.default_role,
            attributes.remove(&r.line).unwrap_or_default(),
        );
        let mut w = Write {
            row: r,
            email: email.clone(),
            id: old.map(|o| o.id),
            values,
            changed: Vec::new(),
            before: BTreeMap::new(),
            after: BTreeMap::new(),
            set_tags: false,
            set_groups: false,
        };
        match old {
            None => {
                w.set_tags = r.tags.as_ref().is_some_and(|t| !t.is_empty());
                w.set_groups = r.groups.as_ref().is_some_and(|g| !g.is_empty());
            }
            Some(o) => {
                let v = w.values.clone();
                let mut diff = |field: &str, before: Value, after: Value| {
                    if before != after {
                        w.changed.push(field.to_string());
                        w.before.insert(field.to_string(), before);
                        w.after.insert(field.to_string(), after);
                    }
                };
                diff("username", json!(o.username), json!(v.username));
                diff("phone", json!(o.phone), json!(v.phone));
                diff("first_name", json!(o.first_name), json!(v.first_name));
                diff("last_name", json!(o.last_name), json!(v.last_name));
                diff("job_title", json!(o.job_title), json!(v.job_title));
                diff("company", json!(o.company), json!(v.company));
                diff("address", json!(o.address), json!(v.address));
                diff("language", json!(o.language), json!(v.language));
                diff("status", json!(o.status), json!(v.status));
                diff(
                    "role",
                    json!(role_name(o.role_id)),
                    json!(role_name(v.role_id)),
                );
                diff("balance", json!(o.balance), json!(v.balance));
                diff("email_opt_in", json!(o.email_opt_in), json!(v.email_opt_in));
                diff("note", json!(o.note), json!(v.note));
                for f in fields {
                    diff(
                        &f.key,
                        json!(o.attributes.get(&f.key)),
                        json!(v.attributes.get(&f.key)),
                    );
                }
                for (link, names, current) in [
                    (Link::Tags, r.tags.as_ref(), current_tags),
                    (Link::Groups, r.groups.as_ref(), current_groups),
                ] {
                    let Some(names) = names.filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    let wanted: BTreeSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
                    let have = current.get(&o.id).cloned().unwrap_or_default();
                    let have_lower: BTreeSet<String> =
                        have.iter().map(|n| n.to_lowercase()).collect();
                    if wanted != have_lower {
                        let field = if link == Link::Tags { "tags" } else { "groups" };
                        diff(field, json!(have), json!(names));
                        if link == Link::Tags {
                            w.set_tags = true;
                        } else {
                            w.set_groups = true;
                        }
                    }
                }
                if r.password.is_some() {
                    w.changed.push("password".into());
                    w.after.insert("password".into(), json!("set"));
                }
                if w.changed.is_empty() {
                    report.unchanged += 1;
                    continue;
                }
                // Any change to an existing user is acting on them: the rule decides,
                // whichever columns the row changes.
                if let Err(refused) = authority.check_role_of(o.id, o.role_id) {
                    let column = w.changed.first().cloned().unwrap_or_default();
                    let refusal = authority.refusal(o.role_id);
                    let message = match (&refusal, column.as_str()) {
                        (Some(r), "role") => give_sentence(r),
                        (Some(r), "status") if r.admin_target && r.missing == [ROLES_MANAGE] => {
                            "Only admins who manage roles can change the status of an admin."
                                .to_string()
                        }
                        (Some(r), _) => r.sentence(),
                        (None, _) => refused.to_string(),
                    };
                    rejected.add(r.line, &email, &changed_header(headers, &column), message);
                    continue;
                }
            }
        }
        writes.push(w);
    }
    writes
}

/// The report's counts and lists, from the refused rows and the planned writes.
fn tally(report: &mut ImportReport, rejected: Rejections, writes: &[Write<'_>]) {
    report.rejected = rejected.0.len() as u64;
    report.rejected_rows = rejected.0.into_values().collect();
    for w in writes {
        if w.id.is_some() {
            report.updated += 1;
            for f in &w.changed {
                *report.changed_fields.entry(f.to_string()).or_default() += 1;
            }
            if report.updated_rows.len() < REPORT_UPDATED_ROWS {
                report.updated_rows.push(UpdatedRow {
                    line: w.row.line,
                    email: w.email.clone(),
                    fields: w.changed.iter().map(|f| f.to_string()).collect(),
                    name: w.row.name(),
                });
            }
        } else {
            report.created += 1;
            if report.created_rows.len() < REPORT_CREATED_ROWS {
                report.created_rows.push(CreatedRow {
                    line: w.row.line,
                    email: w.email.clone(),
                    name: w.row.name(),
                });
            }
        }
    }
}

/// Why an apply writes nothing, before the database is asked: its plan is not the
/// stored preview's, or it is all-or-nothing and rows are refused.
fn refusal(
    report: &ImportReport,
    expected: Option<&ImportReport>,
    options: Options,
) -> Option<Result<Outcome, ServiceError>> {
    if let Some(preview) = expected.filter(|_| options.apply) {
        if preview != report {
            return Some(Ok(Outcome {
                changed: Some(plan_changed(preview, report)),
                report: report.clone(),
                written: false,
            }));
        }
    }
    (options.apply && report.rejected > 0 && !options.skip_invalid).then(|| {
        Ok(Outcome {
            report: report.clone(),
            written: false,
            changed: None,
        })
    })
}

/// The seat quota's refusal, when the users the file creates would pass it.
async fn over_quota(
    txn: &DatabaseTransaction,
    config: &Config,
    report: &ImportReport,
) -> Result<Option<ServiceError>, ServiceError> {
    let Some(max) = config.max_users else {
        return Ok(None);
    };
    let total_users = user_total(txn).await? as u64;
    Ok((total_users + report.created > max).then(|| {
        ServiceError::field(
            "quota",
            format!(
                "The file creates {} users, but the seat quota is {max} and {total_users} exist. Remove users or raise --max-users.",
                report.created
            ),
        )
    }))
}

/// Why an apply wrote nothing: its plan is not the one the preview showed.
fn plan_changed(preview: &ImportReport, now: &ImportReport) -> String {
    format!(
        "Nothing was written: applying now would do something other than the preview showed \
         (preview: {} created, {} updated, {} rejected; now: {} created, {} updated, {} rejected). \
         The users or the rights of the admin who uploaded the file changed since. Upload the file again to preview it anew.",
        preview.created, preview.updated, preview.rejected, now.created, now.updated, now.rejected
    )
}

/// Every distinct (ignoring case) name the rows use, lower-cased -> as first written.
fn names_in(
    rows: &[ImportRow],
    f: impl Fn(&ImportRow) -> Option<&Vec<String>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for r in rows {
        for n in f(r).into_iter().flatten() {
            out.entry(n.to_lowercase()).or_insert_with(|| n.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u64 + 2, r.iter().map(|c| c.to_string()).collect()))
                .collect(),
        }
    }

    fn read(t: &Table) -> (Headers, Vec<ImportRow>, Rejections) {
        let headers = Headers::parse(&t.headers).expect("headers");
        let mut rejected = Rejections::default();
        let parsed = parse_rows(t, &headers, &mut rejected, &Reporter::silent());
        (headers, parsed, rejected)
    }

    #[test]
    fn bad_cells_refuse_their_row_with_every_reason_named_by_its_email() {
        let t = table(
            &["Email", "Phone", "Balance"],
            &[
                &["ann@example.com", "+46701234567", "10"],
                &[" bob@example.com ", "not a phone", "ten"],
            ],
        );
        let (_, parsed, rejected) = read(&t);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].line, 2);
        let row = &rejected.0[&3];
        assert_eq!(row.email, "bob@example.com");
        let columns: Vec<&str> = row.errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(columns, ["Phone", "Balance"], "{row:?}");
    }

    #[test]
    fn a_user_username_or_phone_named_twice_refuses_the_later_rows() {
        let t = table(
            &["email", "Username", "phone"],
            &[
                &["ann@example.com", "ann", "+46701234567"],
                &["ANN@example.com", "", ""],
                &["bob@example.com", "Ann", ""],
                &["cid@example.com", "", "0046701234567"],
                &["dan@example.com", "dan", "+46709999999"],
            ],
        );
        let (headers, parsed, mut rejected) = read(&t);
        assert!(rejected.0.is_empty());
        reject_repeats(&parsed, &headers, &mut rejected);
        let refused: Vec<(u64, &str, &str)> = rejected
            .0
            .values()
            .flat_map(|r| {
                r.errors
                    .iter()
                    .map(move |e| (r.line, e.column.as_str(), e.message.as_str()))
            })
            .collect();
        assert_eq!(
            refused,
            [
                (
                    3,
                    "email",
                    "This email is also on line 2; each user may appear once."
                ),
                (4, "Username", "The username Ann is also on line 2."),
                (5, "phone", "The phone +46701234567 is also on line 2."),
            ]
        );
        assert!(!rejected.has(2) && !rejected.has(6));
    }

    fn role(id: i64, name: &str) -> Role {
        Role {
            id,
            name: name.into(),
            admin: false,
        }
    }

    #[test]
    fn values_keep_what_the_row_leaves_out_and_new_users_get_defaults() {
        let t = table(
            &["email", "first_name", "role"],
            &[&["ann@example.com", "Ann", ""]],
        );
        let (_, parsed, _) = read(&t);
        let roles = HashMap::from([("member".to_string(), role(5, "member"))]);
        let member = role(5, "member");
        let new = values_of(&parsed[0], None, &roles, &member, BTreeMap::new());
        assert_eq!(
            (
                new.first_name.as_str(),
                new.language.as_str(),
                new.status.as_str()
            ),
            ("Ann", "en", "active")
        );
        assert_eq!((new.role_id, new.balance), (5, 0));
        let old = Existing {
            id: 9,
            username: Some("annie".into()),
            phone: None,
            first_name: "Anna".into(),
            last_name: "Berg".into(),
            job_title: "CTO".into(),
            company: "Acme".into(),
            address: String::new(),
            language: "sv".into(),
            status: "banned".into(),
            role_id: 7,
            balance: 120,
            email_opt_in: true,
            note: "vip".into(),
            attributes: BTreeMap::new(),
        };
        let kept = values_of(&parsed[0], Some(&old), &roles, &member, BTreeMap::new());
        assert_eq!(kept.first_name, "Ann", "the row's value wins");
        assert_eq!(
            (
                kept.last_name.as_str(),
                kept.language.as_str(),
                kept.status.as_str()
            ),
            ("Berg", "sv", "banned"),
            "what the row leaves out stays"
        );
        assert_eq!(
            (kept.role_id, kept.balance, kept.email_opt_in),
            (7, 120, true)
        );
        assert_eq!(kept.username.as_deref(), Some("annie"));
    }

    #[test]
    fn an_apply_refuses_a_changed_plan_and_refused_rows_unless_skipping() {
        let preview = ImportReport {
            rows: 2,
            created: 2,
            ..ImportReport::default()
        };
        let now = ImportReport {
            rows: 2,
            created: 1,
            rejected: 1,
            ..ImportReport::default()
        };
        let apply = Options {
            apply: true,
            skip_invalid: true,
        };
        let changed = refusal(&now, Some(&preview), apply).expect("refused");
        let outcome = changed.expect("an outcome, not an error");
        assert!(!outcome.written);
        assert!(outcome
            .changed
            .is_some_and(|m| m.contains("preview: 2 created")));
        assert!(
            refusal(&now, Some(&now), apply).is_none(),
            "same plan, skipping"
        );
        let strict = Options {
            apply: true,
            skip_invalid: false,
        };
        let all_or_nothing = refusal(&now, None, strict)
            .expect("refused")
            .expect("outcome");
        assert!(!all_or_nothing.written && all_or_nothing.changed.is_none());
        let preview_only = Options {
            apply: false,
            skip_invalid: false,
        };
        assert!(
            refusal(&now, Some(&preview), preview_only).is_none(),
            "a preview is never refused"
        );
    }
}
