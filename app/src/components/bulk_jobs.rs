//! Bulk actions on "all matching" that outlast their request go on in the background:
//! each is followed here until it ends, with a progress bar among the notices, and
//! then reported like a quick one (with Undo after a delete).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

use super::notices::{push, Notice, Undo};
use super::{format, UsersCtx};
use crate::api::lifecycle::get_bulk_job;
use crate::domain::transfer::Progress;
use crate::domain::{BulkAction, BulkResult, BulkState};

/// How often a running job is asked how far it is.
const POLL: Duration = Duration::from_millis(500);
/// Failed polls in a row before the page stops following a job.
const MAX_FAILED_POLLS: u32 = 5;

/// A background bulk action the page follows.
#[derive(Clone, Debug, PartialEq)]
pub struct Following {
    pub id: i64,
    pub action: BulkAction,
    /// Users it was started on (the table's count then).
    pub count: u64,
    pub progress: Option<Progress>,
}

/// Reports the outcome of a bulk command: at once when it finished within its
/// request, else once its background job (`result.job`) ends.
pub fn report(ctx: UsersCtx, action: BulkAction, count: u64, result: BulkResult) {
    match result.job {
        Some(id) => follow(ctx, id, action, count),
        None => finished(ctx, &action, &result),
    }
}

fn finished(ctx: UsersCtx, action: &BulkAction, result: &BulkResult) {
    let text = describe(action, result);
    match (action, result.deletion_id, result.status_change_id) {
        (BulkAction::Delete, Some(deletion), _) => {
            push(ctx.notices, Notice::undoable(text, Undo::Delete(deletion)))
        }
        (BulkAction::SetStatus(_), _, Some(change)) if result.affected > 0 => {
            push(ctx.notices, Notice::undoable(text, Undo::Status(change)))
        }
        _ => ctx.notify(text),
    }
    ctx.changed();
}

/// Follows job `id` until it ends. Not reactive itself: it may be started from an
/// action whose form is gone by the time the request answers.
fn follow(ctx: UsersCtx, id: i64, action: BulkAction, count: u64) {
    ctx.bulk_jobs.update(|jobs| {
        jobs.push(Following {
            id,
            action: action.clone(),
            count,
            progress: None,
        })
    });
    let busy = Rc::new(Cell::new(false));
    let failures = Rc::new(Cell::new(0u32));
    let handle = Rc::new(Cell::new(None::<IntervalHandle>));
    let stop = {
        let handle = handle.clone();
        move || {
            if let Some(h) = handle.take() {
                h.clear();
            }
            ctx.bulk_jobs.try_update(|jobs| jobs.retain(|j| j.id != id));
        }
    };
    let tick = move || {
        // The page is gone: nothing to show it on.
        if ctx.bulk_jobs.try_with_untracked(|_| ()).is_none() {
            stop();
            return;
        }
        if busy.replace(true) {
            return;
        }
        let (busy, failures, stop, action) =
            (busy.clone(), failures.clone(), stop.clone(), action.clone());
        leptos::task::spawn_local(async move {
            match get_bulk_job(id).await {
                Ok(job) => {
                    failures.set(0);
                    match job.state {
                        BulkState::Running => {
                            ctx.bulk_jobs.try_update(|jobs| {
                                if let Some(j) = jobs.iter_mut().find(|j| j.id == id) {
                                    j.progress = job.progress;
                                }
                            });
                        }
                        BulkState::Done => {
                            stop();
                            finished(
                                ctx,
                                &action,
                                &job.result.unwrap_or(BulkResult {
                                    affected: 0,
                                    deletion_id: None,
                                    skipped_self: false,
                                    status_change_id: None,
                                    job: None,
                                }),
                            );
                        }
                        BulkState::Failed => {
                            stop();
                            ctx.alert(job.error.unwrap_or_else(|| {
                                "The bulk action failed; nothing was changed.".into()
                            }));
                            ctx.changed();
                        }
                    }
                }
                Err(e) => {
                    failures.set(failures.get() + 1);
                    if failures.get() >= MAX_FAILED_POLLS {
                        stop();
                        ctx.alert(format!(
                            "Lost track of the bulk action ({e}); reload the page to see its effect."
                        ));
                    }
                }
            }
            busy.set(false);
        });
    };
    if let Ok(h) = set_interval_with_handle(tick, POLL) {
        handle.set(Some(h));
    }
}

/// What a running job does: the action and on how many users.
pub fn running_title(job: &Following) -> String {
    let users = users(job.count);
    match &job.action {
        BulkAction::SetStatus(s) => format!("Setting {users} to {}", s.label().to_lowercase()),
        BulkAction::AddTag(t) => format!("Adding tag {t} to {users}"),
        BulkAction::RemoveTag(t) => format!("Removing tag {t} from {users}"),
        BulkAction::AddToGroup(g) => format!("Adding {users} to group {g}"),
        BulkAction::RemoveFromGroup(g) => format!("Removing {users} from group {g}"),
        BulkAction::SetRole(_) => format!("Changing the role of {users}"),
        BulkAction::Delete => format!("Deleting {users}"),
    }
}

/// How far a running job is: its phase, and the users done of those selected.
pub fn running_status(job: &Following) -> String {
    match &job.progress {
        Some(p) if p.total > 0 => format!(
            "{}: {} of {} ({}%)",
            p.phase,
            format::count(p.done),
            format::count(p.total),
            p.percent()
        ),
        Some(p) => format!("{}…", p.phase),
        None => "Starting…".to_string(),
    }
}

fn users(n: u64) -> String {
    if n == 1 {
        "1 user".to_string()
    } else {
        format!("{} users", format::count(n))
    }
}

/// The notice after a bulk command.
pub fn describe(action: &BulkAction, r: &BulkResult) -> String {
    let users = users(r.affected);
    let mut text = match action {
        BulkAction::SetStatus(s) => format!("{users} set to {}.", s.label().to_lowercase()),
        BulkAction::AddTag(t) => format!("Tag {t} added to {users}."),
        BulkAction::RemoveTag(t) => format!("Tag {t} removed from {users}."),
        BulkAction::AddToGroup(g) => format!("{users} added to group {g}."),
        BulkAction::RemoveFromGroup(g) => format!("{users} removed from group {g}."),
        BulkAction::SetRole(_) => format!("Role changed for {users}."),
        BulkAction::Delete if r.affected == 1 => "1 user was deleted.".to_string(),
        BulkAction::Delete => format!("{users} were deleted."),
    };
    if r.skipped_self {
        text.push_str(" Your own account was left out.");
    }
    text
}

/// The running jobs, as notices with a progress bar.
#[component]
pub fn BulkJobs(ctx: UsersCtx) -> impl IntoView {
    view! {
        <For each=move || ctx.bulk_jobs.get() key=|j| (j.id, j.progress.clone()) let:job>
            <div class="notice progress-notice" role="none">
                <strong>{running_title(&job)}</strong>
                <progress max="100" value=job.progress.as_ref().map_or(0, Progress::percent)
                    aria-label="Bulk action progress"></progress>
                <span class="muted">{running_status(&job)}</span>
            </div>
        </For>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;

    #[test]
    fn a_running_job_says_what_it_does_and_how_far_it_is() {
        let mut job = Following {
            id: 1,
            action: BulkAction::SetStatus(Status::Banned),
            count: 1_000_000,
            progress: None,
        };
        assert_eq!(running_title(&job), "Setting 1,000,000 users to banned");
        assert_eq!(running_status(&job), "Starting…");
        job.progress = Some(Progress {
            phase: "Updating users".into(),
            done: 250_000,
            total: 1_000_000,
        });
        assert_eq!(
            running_status(&job),
            "Updating users: 250,000 of 1,000,000 (25%)"
        );
        job.action = BulkAction::RemoveTag("vip".into());
        job.count = 1;
        job.progress = Some(Progress {
            phase: "Selecting users".into(),
            done: 0,
            total: 0,
        });
        assert_eq!(running_title(&job), "Removing tag vip from 1 user");
        assert_eq!(running_status(&job), "Selecting users…");
    }

    #[test]
    fn the_outcome_names_the_action_and_the_users() {
        let r = BulkResult {
            affected: 1200,
            deletion_id: Some(3),
            skipped_self: true,
            status_change_id: None,
            job: None,
        };
        assert_eq!(
            describe(&BulkAction::Delete, &r),
            "1,200 users were deleted. Your own account was left out."
        );
        assert_eq!(
            describe(
                &BulkAction::AddTag("vip".into()),
                &BulkResult { affected: 1, ..r }
            ),
            "Tag vip added to 1 user. Your own account was left out."
        );
    }
}
