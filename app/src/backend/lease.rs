//! Background jobs on a database several servers share (imports, bulk commands): the
//! server running a job renews its lease, with the job's progress for the other
//! servers to show; once the lease has run out, that server is taken to be gone and
//! the job is failed by whichever server looks first.

use super::dialect::Run;
use super::sql::Sql;
use super::{now, AppState};

/// How long a running job's lease lasts without renewal. It is long enough to outlast
/// a few failed renewals and the servers' clocks disagreeing by tens of seconds.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);
const RENEW: std::time::Duration = std::time::Duration::from_secs(2);

/// A background task that ends when this is dropped.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a background job's `work` on a task of its own; should it panic, logs that
/// and runs `on_panic` (which fails the job), so a job whose work died is never left
/// "running" until the next start or the end of its lease. The job's transaction was
/// dropped with the task, so nothing of it was written. `None` when it panicked.
pub async fn supervise<T, W, P>(what: &'static str, id: i64, work: W, on_panic: P) -> Option<T>
where
    T: Send + 'static,
    W: std::future::Future<Output = T> + Send + 'static,
    P: std::future::Future<Output = ()>,
{
    match tokio::spawn(work).await {
        Ok(out) => Some(out),
        Err(e) => {
            tracing::error!(error = %e, job = id, "{what} stopped: its work panicked");
            on_panic.await;
            None
        }
    }
}

/// Renews the lease of job `id` in `table` (while its state is one of `running`)
/// with the progress kept under `key`, until the returned guard is dropped: also when
/// the job's work panics, since a job whose work died must lose its lease. Nothing
/// where one server owns the database (SQLite, whose job transaction would hold the
/// renewal up anyway).
pub fn renew(
    state: &AppState,
    table: &'static str,
    running: &'static [&'static str],
    id: i64,
    key: String,
) -> Option<AbortOnDrop> {
    if !state.db.dialect().shared_by_servers() {
        return None;
    }
    let state = state.clone();
    Some(AbortOnDrop(tokio::spawn(async move {
        let mut tick = tokio::time::interval(RENEW);
        loop {
            tick.tick().await;
            let progress = state
                .jobs
                .get(&key)
                .and_then(|p| serde_json::to_string(&p).ok());
            let mut renew = Sql::new(&format!("UPDATE {table} SET lease_until = "));
            renew
                .bind(now() + LEASE)
                .push(", progress = ")
                .bind(progress)
                .push(" WHERE id = ")
                .bind(id)
                .push(" AND state IN (")
                .bind_list(running.iter().copied())
                .push(")");
            if let Err(e) = state.db.exec(&renew).await {
                tracing::warn!(error = ?e, table, job = id, "renewing a job's lease failed");
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_job_is_failed_and_a_finished_one_is_not() {
        let failed = std::sync::atomic::AtomicU32::new(0);
        let fail = || async {
            failed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        };
        let done = supervise("test job", 1, async { 42 }, fail()).await;
        assert_eq!(done, Some(42));
        assert_eq!(failed.load(std::sync::atomic::Ordering::SeqCst), 0);
        let died: Option<u32> = supervise(
            "test job",
            2,
            async {
                let empty: Vec<u32> = Vec::new();
                empty[0]
            },
            fail(),
        )
        .await;
        assert_eq!(died, None);
        assert_eq!(failed.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
