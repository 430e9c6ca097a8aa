//! Users in and out of files: exports (CSV streamed, XLSX in constant memory), the
//! import template, imports (preview, apply, error file) and the progress of the
//! jobs that run them.

pub mod export;
pub mod import;
pub mod jobs;
mod lookup;
pub mod read;
mod write;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::transfer::Progress;

/// Most progress entries kept; the oldest finished ones go first.
const MAX_ENTRIES: usize = 1000;

/// The progress of running imports and exports, by key (`import:7`, `export:<token>`).
/// Kept in memory: a job's durable state is in `import_jobs`.
#[derive(Debug, Default)]
pub struct Jobs {
    entries: Mutex<HashMap<String, (u64, Progress)>>,
    counter: std::sync::atomic::AtomicU64,
}

impl Jobs {
    /// Records that `key` is in `phase`, `done` of `total`.
    pub fn set(&self, key: &str, phase: &str, done: u64, total: u64) {
        let seq = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (seq, _))| *seq)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            key.to_string(),
            (
                seq,
                Progress {
                    phase: phase.to_string(),
                    done,
                    total,
                },
            ),
        );
    }

    pub fn get(&self, key: &str) -> Option<Progress> {
        self.entries
            .lock()
            .ok()
            .and_then(|e| e.get(key).map(|(_, p)| p.clone()))
    }

    pub fn remove(&self, key: &str) {
        if let Ok(mut e) = self.entries.lock() {
            e.remove(key);
        }
    }
}

/// A progress callback bound to one job key; reports at most every `step` rows.
pub struct Reporter<'a> {
    jobs: Option<&'a Jobs>,
    key: String,
    on_change: Option<&'a (dyn Fn(&Progress) + Sync)>,
}

impl<'a> Reporter<'a> {
    pub fn new(jobs: &'a Jobs, key: impl Into<String>) -> Self {
        Reporter {
            jobs: Some(jobs),
            key: key.into(),
            on_change: None,
        }
    }

    /// Reports to a callback instead (the command line's progress bar).
    pub fn callback(f: &'a (dyn Fn(&Progress) + Sync)) -> Self {
        Reporter {
            jobs: None,
            key: String::new(),
            on_change: Some(f),
        }
    }

    /// Reports nowhere.
    pub fn silent() -> Self {
        Reporter {
            jobs: None,
            key: String::new(),
            on_change: None,
        }
    }

    pub fn report(&self, phase: &str, done: u64, total: u64) {
        if let Some(jobs) = self.jobs {
            jobs.set(&self.key, phase, done, total);
        }
        if let Some(f) = self.on_change {
            f(&Progress {
                phase: phase.to_string(),
                done,
                total,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_kept_per_key_and_bounded() {
        let jobs = Jobs::default();
        jobs.set("import:1", "Checking rows", 5, 10);
        assert_eq!(jobs.get("import:1").map(|p| p.percent()), Some(50));
        for i in 0..MAX_ENTRIES + 10 {
            jobs.set(&format!("export:{i}"), "Writing", 1, 2);
        }
        assert!(
            jobs.get("import:1").is_none(),
            "the oldest entry went first"
        );
        assert!(jobs.get(&format!("export:{}", MAX_ENTRIES + 9)).is_some());
        jobs.remove(&format!("export:{}", MAX_ENTRIES + 9));
        assert!(jobs.get(&format!("export:{}", MAX_ENTRIES + 9)).is_none());
    }
}
