//! Bulk commands on "all matching" users run as background jobs, so a command on a
//! million users never holds a request open for minutes: the request waits a moment
//! ([`Config::bulk_wait`](super::Config)) and answers with the outcome when the
//! command was quick, else with the job, whose progress the page then follows.
//!
//! The command is still one transaction (all or nothing), and it writes its job's
//! "done" itself, so a job is never done without its work nor the work without its
//! "done". A job whose server stopped is failed at the next start (SQLite) or once its
//! lease runs out (PostgreSQL, see [`lease`](super::lease)); one whose work panicked is
//! failed at once ([`lease::supervise`]).

use super::bulk;
use super::dialect::Run;
use super::lease::{self, LEASE};
use super::sql::Sql;
use super::transfer::Reporter;
use super::{now, AppState, ServiceError};
use crate::domain::{AdminInfo, BulkAction, BulkJob, BulkResult, BulkState, Selection, UserQuery};

const RUNNING: [&str; 1] = [BulkState::Running.as_db()];

fn key(id: i64) -> String {
    format!("bulk:{id}")
}

/// Why a job whose server stopped failed.
pub const STOPPED: &str =
    "The server running this bulk action stopped before it finished; nothing was changed. Run it again.";

/// Starts `action` on every user `query` matches and waits up to
/// `config.bulk_wait` for it: the outcome (or refusal) when it finished in time,
/// else a result naming the job that goes on.
pub async fn start(
    state: &AppState,
    actor: &AdminInfo,
    query: UserQuery,
    action: BulkAction,
) -> Result<BulkResult, ServiceError> {
    // Bad input is refused at once, not by a job.
    bulk::check(&action)?;
    let mut insert = Sql::new(
        "INSERT INTO bulk_jobs (actor_id, action, state, lease_until, created_at) VALUES (",
    );
    insert
        .bind(actor.id)
        .push(", ")
        .bind(serde_json::to_string(&action).map_err(anyhow::Error::from)?)
        .push(", ")
        .bind(BulkState::Running.as_db())
        .push(", ")
        .bind(now() + LEASE)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    let id = crate::backend::db::inserted_id(&state.db, &insert, "bulk job").await?;
    state.jobs.set(&key(id), "Starting", 0, 0);
    let (sender, outcome) = tokio::sync::oneshot::channel();
    let (task_state, actor) = (state.clone(), actor.clone());
    tokio::spawn(async move {
        let work = {
            let state = task_state.clone();
            async move { execute(&state, &actor, id, query, action).await }
        };
        let died = async {
            record_failure(&task_state, id, FAILED).await;
            task_state.jobs.remove(&key(id));
        };
        let result = lease::supervise("bulk job", id, work, died)
            .await
            .unwrap_or_else(|| Err(anyhow::anyhow!("bulk job {id} panicked").into()));
        let _ = sender.send(result);
    });
    let in_background = Ok(BulkResult {
        affected: 0,
        deletion_id: None,
        skipped_self: false,
        status_change_id: None,
        job: Some(id),
    });
    // No wait at all: the job, however quick it turns out to be.
    if state.config.bulk_wait.is_zero() {
        return in_background;
    }
    match tokio::time::timeout(state.config.bulk_wait, outcome).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(anyhow::anyhow!("bulk job {id} ended without an outcome").into()),
        Err(_) => in_background,
    }
}

/// Runs the command and records a failure (its success commits with its work).
async fn execute(
    state: &AppState,
    actor: &AdminInfo,
    id: i64,
    query: UserQuery,
    action: BulkAction,
) -> Result<BulkResult, ServiceError> {
    let renewal = lease::renew(state, "bulk_jobs", &RUNNING, id, key(id));
    let reporter = Reporter::new(&state.jobs, key(id));
    let result = bulk::run(
        &state.db,
        actor,
        &Selection::Matching(query),
        &action,
        &reporter,
        Some(id),
    )
    .await;
    drop(renewal);
    let result = match result {
        Ok(r) => Ok(r),
        Err(e) => {
            // The job keeps the refusal's words; the waiting request gets them too.
            record_failure(state, id, &e.job_message(&key(id), FAILED)).await;
            Err(e)
        }
    };
    state.jobs.remove(&key(id));
    result
}

/// What a job that failed on the server (not refused) says.
const FAILED: &str = "The bulk action failed on the server; nothing was changed. Try again, or ask your operator to check the log.";

/// Marks job `id` failed with `message`.
async fn record_failure(state: &AppState, id: i64, message: &str) {
    let mut failed = Sql::new("UPDATE bulk_jobs SET state = ");
    failed
        .bind(BulkState::Failed.as_db())
        .push(", error = ")
        .bind(message)
        .push(", progress = NULL, finished_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(BulkState::Running.as_db());
    if let Err(e) = state.db.exec(&failed).await {
        tracing::error!(error = ?e, job = id, "recording a bulk job's failure failed");
    }
}

/// Records job `id` as done with `result`, inside the command's own transaction.
pub async fn record_done<C: Run>(
    txn: &C,
    id: i64,
    result: &BulkResult,
) -> Result<(), ServiceError> {
    let mut done = Sql::new("UPDATE bulk_jobs SET state = ");
    done.bind(BulkState::Done.as_db())
        .push(", affected = ")
        .bind(result.affected as i64)
        .push(", deletion_id = ")
        .bind(result.deletion_id)
        .push(", status_change_id = ")
        .bind(result.status_change_id)
        .push(", skipped_self = ")
        .bind(result.skipped_self)
        .push(", progress = NULL, finished_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id);
    txn.exec(&done).await?;
    Ok(())
}

/// Job `id` as its admin sees it. Only the admin who started a job sees it.
pub async fn get(state: &AppState, actor: &AdminInfo, id: i64) -> Result<BulkJob, ServiceError> {
    let mut q = Sql::new(
        "SELECT id, action, state, affected, deletion_id, status_change_id, skipped_self, error, progress \
         FROM bulk_jobs WHERE id = ",
    );
    q.bind(id).push(" AND actor_id = ").bind(actor.id);
    let not_found = || ServiceError::NotFound(format!("Bulk action {id}"));
    let row = state.db.one(&q).await?.ok_or_else(not_found)?;
    let action: BulkAction =
        serde_json::from_str(&row.try_get::<String>("", "action")?).map_err(anyhow::Error::from)?;
    let job_state = BulkState::from_db(&row.try_get::<String>("", "state")?)
        .ok_or_else(|| anyhow::anyhow!("unknown bulk job state"))?;
    Ok(BulkJob {
        id,
        action,
        state: job_state,
        // This server's own progress, or what the server running it last wrote.
        progress: (job_state == BulkState::Running)
            .then(|| {
                state.jobs.get(&key(id)).or_else(|| {
                    row.try_get::<Option<String>>("", "progress")
                        .ok()
                        .flatten()
                        .and_then(|p| serde_json::from_str(&p).ok())
                })
            })
            .flatten(),
        result: (job_state == BulkState::Done)
            .then(|| -> Result<BulkResult, ServiceError> {
                Ok(BulkResult {
                    affected: row.try_get::<i64>("", "affected")? as u64,
                    deletion_id: row.try_get("", "deletion_id")?,
                    skipped_self: row.try_get("", "skipped_self")?,
                    status_change_id: row.try_get("", "status_change_id")?,
                    job: None,
                })
            })
            .transpose()?,
        error: row.try_get("", "error")?,
    })
}

/// Fails the jobs whose server is gone: with `every_running` (a SQLite file at its
/// server's start) all running jobs, otherwise those whose lease ran out before `at`.
/// Their transaction never committed, so nothing of them was written.
pub async fn fail_abandoned<C: Run>(
    db: &C,
    at: chrono::DateTime<chrono::Utc>,
    every_running: bool,
) -> Result<u64, ServiceError> {
    let mut q = Sql::new("UPDATE bulk_jobs SET state = ");
    q.bind(BulkState::Failed.as_db())
        .push(", error = ")
        .bind(STOPPED)
        .push(", progress = NULL, finished_at = ")
        .bind(at)
        .push(" WHERE state = ")
        .bind(BulkState::Running.as_db());
    if !every_running {
        q.push(" AND (lease_until IS NULL OR lease_until < ")
            .bind(at)
            .push(")");
    }
    Ok(db.exec(&q).await?.rows_affected())
}
