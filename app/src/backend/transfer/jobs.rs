//! Import jobs: the uploaded file is kept in `import_jobs`; its preview and its apply
//! run in the background while the page shows their progress, and the row keeps the
//! report, so an admin can leave and come back. `report` holds a [`Stored`] JSON.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryResult,
};
use serde::{Deserialize, Serialize};

use super::export::csv_line;
use super::import::{self, Options};
use super::read::{read, Table};
use super::{Jobs, Reporter};
use crate::backend::dialect::Run;
use crate::backend::entities::import_job;
use crate::backend::sql::Sql;
use crate::backend::{now, AppState, ServiceError};
use crate::domain::permissions::USERS_IMPORT;
use crate::domain::transfer::{FileFormat, ImportJob, ImportReport, JobState};
use crate::domain::AdminInfo;

/// What `import_jobs.report` holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Stored {
    report: Option<ImportReport>,
    error: Option<String>,
    skip_invalid: bool,
}

fn key(id: i64) -> String {
    format!("import:{id}")
}

pub use crate::backend::lease::LEASE;

/// The states of a job some server is working on.
const RUNNING: [&str; 2] = [JobState::Previewing.as_db(), JobState::Applying.as_db()];

/// Stores an uploaded file as a new job and starts its preview.
pub async fn create(
    state: &AppState,
    actor: &AdminInfo,
    file_name: &str,
    data: Vec<u8>,
) -> Result<i64, ServiceError> {
    let name = file_name.trim();
    let format = FileFormat::from_file_name(name).ok_or_else(|| {
        ServiceError::field(
            "file",
            "Upload a .csv or .xlsx file (the name must end in .csv or .xlsx).",
        )
    })?;
    if data.is_empty() {
        return Err(ServiceError::field("file", "The file is empty."));
    }
    let job = import_job::ActiveModel {
        actor_id: Set(Some(actor.id)),
        file_name: Set(name.chars().take(200).collect()),
        format: Set(format.as_str().into()),
        state: Set(JobState::Previewing.as_db().into()),
        data: Set(Some(data)),
        created_at: Set(now()),
        lease_until: Set(Some(now() + LEASE)),
        ..Default::default()
    };
    let id = import_job::Entity::insert(job)
        .exec(&state.db)
        .await?
        .last_insert_id;
    state.jobs.set(&key(id), "Reading the file", 0, 0);
    spawn(state, actor, id, Options::default(), None);
    Ok(id)
}

/// Applies a previewed job in the background: all or nothing, or skipping the
/// rejected rows. Refused unless the preview is ready, or when rows were rejected and
/// `skip_invalid` is not set.
pub async fn apply(
    state: &AppState,
    actor: &AdminInfo,
    id: i64,
    skip_invalid: bool,
) -> Result<(), ServiceError> {
    let job = get(&state.db, &state.jobs, id).await?;
    if job.state != JobState::Previewed {
        return Err(ServiceError::Conflict(format!(
            "This import cannot be applied now: it is {}.",
            job.state.label().to_lowercase()
        )));
    }
    let rejected = job.report.as_ref().map_or(0, |r| r.rejected);
    let preview = job
        .report
        .clone()
        .ok_or_else(|| ServiceError::Conflict("This import has no preview to apply.".into()))?;
    // The file is applied with the uploader's rights (what the preview was checked
    // with), never more than those of whoever applies it.
    let rights = uploader_rights(&state.db, id, actor).await?;
    if rejected > 0 && !skip_invalid {
        return Err(ServiceError::field(
            "apply",
            format!("{rejected} rows are rejected, so nothing can be applied all-or-nothing. Fix them and upload again, or apply skipping them."),
        ));
    }
    let claimed = import_job::Entity::update_many()
        .col_expr(import_job::Column::State, JobState::Applying.as_db().into())
        .col_expr(import_job::Column::LeaseUntil, Some(now() + LEASE).into())
        .filter(import_job::Column::Id.eq(id))
        .filter(import_job::Column::State.eq(JobState::Previewed.as_db()))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(ServiceError::Conflict(
            "This import is already being applied.".into(),
        ));
    }
    state.jobs.set(&key(id), "Starting", 0, 0);
    let options = Options {
        apply: true,
        skip_invalid,
    };
    spawn(state, actor, id, options, Some((preview, rights)));
    Ok(())
}

/// Runs [`execute`] in the background; should it panic, the job is failed at once
/// (and an apply's file, which may hold passwords, is dropped).
fn spawn(
    state: &AppState,
    actor: &AdminInfo,
    id: i64,
    options: Options,
    preview: Option<(ImportReport, AdminInfo)>,
) {
    let (state, actor) = (state.clone(), actor.clone());
    tokio::spawn(async move {
        let work = {
            let state = state.clone();
            async move { execute(&state, &actor, id, options, preview).await }
        };
        let died = async {
            // An apply commits before it records its outcome, so a panic in between
            // leaves its users written: the message does not claim otherwise.
            let message = if options.apply {
                "The import stopped on the server with an internal error. Check the Users page to see whether its users were written before you upload the file again, and ask your operator to check the log."
            } else {
                "The check stopped on the server with an internal error; nothing was written. Upload the file again, or ask your operator to check the log."
            };
            if let Err(e) = fail_running(&state.db, id, message).await {
                tracing::error!(error = ?e, job = id, "recording the import's failure failed");
            }
            if options.apply {
                if let Err(e) = drop_file(&state.db, id).await {
                    tracing::error!(error = ?e, job = id, "dropping an import's file failed");
                }
            }
            state.jobs.remove(&key(id));
        };
        crate::backend::lease::supervise("import", id, work, died).await;
    });
}

/// The job's uploader, with the permissions both they and `applier` hold now.
/// Refused when the uploader is gone, inactive or can no longer import.
async fn uploader_rights(
    db: &DatabaseConnection,
    id: i64,
    applier: &AdminInfo,
) -> Result<AdminInfo, ServiceError> {
    let mut q = Sql::new(
        "SELECT u.id, u.email, u.status, rp.permission FROM import_jobs j \
         JOIN users u ON u.id = j.actor_id \
         LEFT JOIN role_permissions rp ON rp.role_id = u.role_id WHERE j.id = ",
    );
    q.bind(id);
    let rows = db.all(&q).await?;
    let mut permissions = Vec::new();
    let mut active = false;
    let mut uploader = (0, String::new());
    for row in &rows {
        active = row.try_get::<String>("", "status")? == "active";
        uploader = (row.try_get("", "id")?, row.try_get("", "email")?);
        permissions.extend(row.try_get::<Option<String>>("", "permission")?);
    }
    if !active || !permissions.iter().any(|p| p == USERS_IMPORT) {
        return Err(ServiceError::Conflict(
            "The admin who uploaded this file can no longer import users, so it cannot be applied. Upload it again."
                .into(),
        ));
    }
    Ok(AdminInfo {
        id: uploader.0,
        email: uploader.1,
        permissions: applier
            .permissions
            .iter()
            .filter(|p| permissions.contains(p))
            .cloned()
            .collect(),
        ..applier.clone()
    })
}

/// Runs a preview or an apply and records how it ended. An apply passes the
/// preview's report: a different plan writes nothing.
async fn execute(
    state: &AppState,
    actor: &AdminInfo,
    id: i64,
    options: Options,
    preview: Option<(ImportReport, AdminInfo)>,
) {
    let mut holds_passwords = false;
    // With several servers the lease says this one is still at it.
    let renewal = crate::backend::lease::renew(state, "import_jobs", &RUNNING, id, key(id));
    let result = async {
        let (format, data) = file(&state.db, id).await?;
        if data.is_empty() {
            return Err(ServiceError::Conflict(PASSWORDS_DROPPED.into()));
        }
        let table = read_off_runtime(data, format).await?;
        holds_passwords = password_columns(&table.headers).next().is_some();
        let reporter = Reporter::new(&state.jobs, key(id));
        import::run(
            &state.db,
            &state.config,
            actor,
            &table,
            options,
            preview
                .as_ref()
                .map(|(report, rights)| import::Previewed { report, rights }),
            &reporter,
        )
        .await
    }
    .await;
    let (job_state, stored) = match result {
        // Rows that were fine at preview time can be rejected now (someone took an
        // email or a username meanwhile), or the plan is not the preview's any more:
        // the apply then writes nothing, and keeps the report of the attempt.
        Ok(outcome) if options.apply && !outcome.written => (
            JobState::Failed,
            Stored {
                error: Some(outcome.changed.clone().unwrap_or_else(|| format!(
                    "{} rows are rejected now, so nothing was written. Upload the file again to see why, or apply skipping them.",
                    outcome.report.rejected
                ))),
                report: Some(outcome.report),
                skip_invalid: options.skip_invalid,
            },
        ),
        Ok(outcome) => (
            if options.apply {
                JobState::Applied
            } else {
                JobState::Previewed
            },
            Stored {
                report: Some(outcome.report),
                error: None,
                skip_invalid: options.skip_invalid,
            },
        ),
        Err(e) => {
            let message = e.job_message(
                &key(id),
                "The import failed on the server; nothing was written. Try again, or ask your operator to check the log.",
            );
            (
                JobState::Failed,
                Stored {
                    report: None,
                    error: Some(message),
                    skip_invalid: options.skip_invalid,
                },
            )
        }
    };
    drop(renewal);
    if let Err(e) = finish(&state.db, id, job_state, &stored, options.apply).await {
        tracing::error!(error = ?e, job = id, "recording the import's result failed");
    }
    // Plaintext passwords are kept no longer than the import needs them.
    if options.apply && holds_passwords {
        if let Err(e) = drop_file(&state.db, id).await {
            tracing::error!(error = ?e, job = id, "dropping an import's passwords failed");
        }
    }
    state.jobs.remove(&key(id));
}

/// Forgets the uploaded file of a job (its report stays).
async fn drop_file(db: &DatabaseConnection, id: i64) -> Result<(), ServiceError> {
    import_job::Entity::update_many()
        .col_expr(
            import_job::Column::Data,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(import_job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

async fn read_off_runtime(data: Vec<u8>, format: FileFormat) -> Result<Table, ServiceError> {
    tokio::task::spawn_blocking(move || read(&data, format))
        .await
        .map_err(|e| anyhow::anyhow!("reading task failed: {e}"))?
        .map_err(|e| ServiceError::field("file", e.0))
}

async fn finish(
    db: &DatabaseConnection,
    id: i64,
    state: JobState,
    stored: &Stored,
    applied: bool,
) -> Result<(), ServiceError> {
    let r = stored.report.clone().unwrap_or_default();
    let finished = import_job::ActiveModel {
        state: Set(state.as_db().into()),
        total_rows: Set(r.rows as i64),
        created: Set(r.created as i64),
        updated: Set(r.updated as i64),
        unchanged: Set(r.unchanged as i64),
        failed: Set(r.rejected as i64),
        report: Set(serde_json::to_value(stored).map_err(anyhow::Error::from)?),
        finished_at: Set((applied || state == JobState::Failed).then(now)),
        ..Default::default()
    };
    import_job::Entity::update_many()
        .set(finished)
        .filter(import_job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// How long an unapplied upload may hold plaintext passwords.
pub const PASSWORD_HOURS: i64 = 4;

/// Why an old preview can no longer be applied.
pub const PASSWORDS_DROPPED: &str =
    "The uploaded file held passwords and was not applied within 4 hours, so it was deleted. Upload it again.";

/// Deletes the uploaded files of imports not applied within [`PASSWORD_HOURS`] that
/// hold a `password` column, so plaintext passwords never wait in the database for an
/// Apply that may never come. Returns how many files went.
pub async fn drop_stale_passwords(
    db: &DatabaseConnection,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<u64, ServiceError> {
    let mut q = Sql::new(
        "SELECT id, format, data FROM import_jobs WHERE data IS NOT NULL \
         AND state IN ('uploaded', 'previewed', 'failed') AND created_at < ",
    );
    q.bind(at - chrono::Duration::hours(PASSWORD_HOURS));
    let mut dropped = 0;
    for row in db.all(&q).await? {
        let id: i64 = row.try_get("", "id")?;
        let Some(format) = FileFormat::parse(&row.try_get::<String>("", "format")?) else {
            continue;
        };
        let data: Vec<u8> = row.try_get("", "data")?;
        // A file that no longer reads cannot be applied either: it goes too.
        let holds = match read_off_runtime(data, format).await {
            Ok(table) => password_columns(&table.headers).next().is_some(),
            Err(_) => true,
        };
        if holds {
            drop_file(db, id).await?;
            dropped += 1;
        }
    }
    Ok(dropped)
}

async fn file(db: &DatabaseConnection, id: i64) -> Result<(FileFormat, Vec<u8>), ServiceError> {
    let mut q = Sql::new("SELECT format, data FROM import_jobs WHERE id = ");
    q.bind(id);
    let row = db
        .one(&q)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("Import {id}")))?;
    let format = FileFormat::parse(&row.try_get::<String>("", "format")?)
        .ok_or_else(|| anyhow::anyhow!("unknown import format"))?;
    let data: Option<Vec<u8>> = row.try_get("", "data")?;
    Ok((format, data.unwrap_or_default()))
}

const COLUMNS: &str =
    "j.id, j.file_name, j.format, j.state, j.total_rows, j.created, j.updated, j.unchanged, \
    j.failed, j.created_at, j.finished_at, j.progress, u.email AS actor_email";

fn job_from(
    r: &QueryResult,
    stored: Option<Stored>,
    jobs: &Jobs,
) -> Result<ImportJob, ServiceError> {
    let id: i64 = r.try_get("", "id")?;
    let state = JobState::from_db(&r.try_get::<String>("", "state")?)
        .ok_or_else(|| anyhow::anyhow!("unknown import state"))?;
    let counts = ImportReport {
        rows: r.try_get::<i64>("", "total_rows")? as u64,
        created: r.try_get::<i64>("", "created")? as u64,
        updated: r.try_get::<i64>("", "updated")? as u64,
        unchanged: r.try_get::<i64>("", "unchanged")? as u64,
        rejected: r.try_get::<i64>("", "failed")? as u64,
        ..ImportReport::default()
    };
    let stored = stored.unwrap_or_default();
    Ok(ImportJob {
        id,
        file_name: r.try_get("", "file_name")?,
        format: FileFormat::parse(&r.try_get::<String>("", "format")?).unwrap_or(FileFormat::Csv),
        state,
        actor_email: r.try_get("", "actor_email")?,
        created_at: r.try_get("", "created_at")?,
        finished_at: r.try_get("", "finished_at")?,
        report: stored
            .report
            .or(if state.running() { None } else { Some(counts) }),
        skipped_invalid: stored.skip_invalid,
        // This server's own progress, or what the server running it last wrote.
        progress: if state.running() {
            jobs.get(&key(id)).or_else(|| {
                r.try_get::<Option<String>>("", "progress")
                    .ok()
                    .flatten()
                    .and_then(|p| serde_json::from_str(&p).ok())
            })
        } else {
            None
        },
        error: stored.error,
    })
}

/// One job with its full report.
pub async fn get(db: &DatabaseConnection, jobs: &Jobs, id: i64) -> Result<ImportJob, ServiceError> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS}, CAST(j.report AS TEXT) AS report FROM import_jobs j \
         LEFT JOIN users u ON u.id = j.actor_id WHERE j.id = "
    ));
    q.bind(id);
    let row = db
        .one(&q)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("Import {id}")))?;
    let text: String = row.try_get("", "report")?;
    let stored = serde_json::from_str::<Stored>(&text).ok();
    job_from(&row, stored, jobs)
}

/// The latest jobs, newest first, with their counts (not their row-by-row reports).
pub async fn list(
    db: &DatabaseConnection,
    jobs: &Jobs,
    limit: u64,
) -> Result<Vec<ImportJob>, ServiceError> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM import_jobs j LEFT JOIN users u ON u.id = j.actor_id ORDER BY j.id DESC LIMIT "
    ));
    q.bind(limit as i64);
    db.all(&q)
        .await?
        .iter()
        .map(|r| job_from(r, None, jobs))
        .collect()
}

/// Fails the jobs whose server is gone: with `every_running` (a SQLite file at its
/// server's start: nothing else can be running them) all running jobs, otherwise those
/// whose lease ran out before `at`. Their transaction never committed, so nothing of
/// them was written.
pub async fn fail_abandoned(
    db: &DatabaseConnection,
    at: chrono::DateTime<chrono::Utc>,
    every_running: bool,
) -> Result<u64, ServiceError> {
    let stored = Stored {
        report: None,
        error: Some("The server running this import stopped before it finished; nothing was written. Upload the file again.".into()),
        skip_invalid: false,
    };
    let failed = import_job::ActiveModel {
        state: Set(JobState::Failed.as_db().into()),
        report: Set(serde_json::to_value(&stored).map_err(anyhow::Error::from)?),
        finished_at: Set(Some(at)),
        ..Default::default()
    };
    let mut abandoned = import_job::Entity::update_many()
        .set(failed)
        .filter(import_job::Column::State.is_in(RUNNING));
    if !every_running {
        abandoned = abandoned.filter(
            Condition::any()
                .add(import_job::Column::LeaseUntil.is_null())
                .add(import_job::Column::LeaseUntil.lt(at)),
        );
    }
    Ok(abandoned.exec(db).await?.rows_affected)
}

/// Fails job `id` with `message` if it is still running (its outcome not recorded).
async fn fail_running(
    db: &DatabaseConnection,
    id: i64,
    message: &str,
) -> Result<u64, ServiceError> {
    let stored = Stored {
        report: None,
        error: Some(message.into()),
        skip_invalid: false,
    };
    let failed = import_job::ActiveModel {
        state: Set(JobState::Failed.as_db().into()),
        report: Set(serde_json::to_value(&stored).map_err(anyhow::Error::from)?),
        finished_at: Set(Some(now())),
        ..Default::default()
    };
    Ok(import_job::Entity::update_many()
        .set(failed)
        .filter(import_job::Column::Id.eq(id))
        .filter(import_job::Column::State.is_in(RUNNING))
        .exec(db)
        .await?
        .rows_affected)
}

/// The rejected rows of a job as a file in the upload's format: the original header
/// and cells plus an `error` column, ready to fix and upload again.
pub async fn error_file(
    db: &DatabaseConnection,
    jobs: &Jobs,
    id: i64,
) -> Result<(Vec<u8>, String, FileFormat), ServiceError> {
    let job = get(db, jobs, id).await?;
    let report = job
        .report
        .ok_or_else(|| ServiceError::Conflict("This import has no report yet.".into()))?;
    let (format, data) = file(db, id).await?;
    if data.is_empty() {
        return Err(ServiceError::Conflict(
            "The uploaded file was deleted after the import because it held passwords; its rejected rows are listed on the page.".into(),
        ));
    }
    let table = read_off_runtime(data, format).await?;
    let blank: Vec<usize> = password_columns(&table.headers).collect();
    let reasons: std::collections::HashMap<u64, String> = report
        .rejected_rows
        .iter()
        .map(|r| {
            let text = r
                .errors
                .iter()
                .map(|e| {
                    if e.column.is_empty() {
                        e.message.clone()
                    } else {
                        format!("{}: {}", e.column, e.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            (r.line, text)
        })
        .collect();
    let mut header = table.headers.clone();
    header.push("error".into());
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .filter_map(|(line, cells)| {
            let reason = reasons.get(line)?;
            let mut cells = cells.clone();
            cells.resize(table.headers.len(), String::new());
            // Never hand a plaintext password back.
            for i in &blank {
                cells[*i] = String::new();
            }
            cells.push(reason.clone());
            Some(cells)
        })
        .collect();
    let stem = job
        .file_name
        .rsplit_once('.')
        .map_or(job.file_name.as_str(), |(stem, _)| stem)
        .to_string();
    let name = format!("{stem}-rejected.{}", format.as_str());
    let bytes = match format {
        FileFormat::Csv => {
            let mut out = "\u{feff}".as_bytes().to_vec();
            csv_line(&mut out, &header);
            for r in &rows {
                csv_line(&mut out, r);
            }
            out
        }
        FileFormat::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            let fail = |e: rust_xlsxwriter::XlsxError| {
                ServiceError::from(anyhow::anyhow!("writing the error file: {e}"))
            };
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (c, h) in header.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, h, &bold)
                    .map_err(fail)?;
            }
            for (r, cells) in rows.iter().enumerate() {
                for (c, v) in cells.iter().enumerate() {
                    if !v.is_empty() {
                        ws.write_string(r as u32 + 1, c as u16, v).map_err(fail)?;
                    }
                }
            }
            ws.set_freeze_panes(1, 0).map_err(fail)?;
            wb.save_to_buffer().map_err(fail)?
        }
    };
    Ok((bytes, name, format))
}

/// The positions of a file's `password` columns.
fn password_columns(headers: &[String]) -> impl Iterator<Item = usize> + '_ {
    headers.iter().enumerate().filter_map(|(i, h)| {
        (crate::domain::transfer::FileColumn::from_header(h)
            == Some(crate::domain::transfer::FileColumn::Password))
        .then_some(i)
    })
}
