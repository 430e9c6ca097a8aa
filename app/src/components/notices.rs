//! Notices after a command: "3 users banned", errors, and the Undo offer after a
//! delete. They sit in a live region and leave by themselves after a few seconds.

use std::time::Duration;

use leptos::prelude::*;

use super::use_users_ctx;
use crate::api::lifecycle::{undo_delete, undo_status_change};
use crate::domain::StatusUndo;

/// How long a notice (and its Undo button) stays.
pub const NOTICE_TIME: Duration = Duration::from_secs(8);

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub id: u64,
    pub text: String,
    pub error: bool,
    /// What Undo takes back.
    pub undo: Option<Undo>,
}

/// A command the notice's Undo button takes back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Undo {
    /// A delete (its deletion id).
    Delete(i64),
    /// A status change (its change id).
    Status(i64),
}

/// What an undo did, for its notice.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Undone {
    Deleted(u64),
    Status(StatusUndo),
}

impl Undone {
    fn text(self) -> String {
        let users = |n: u64| {
            if n == 1 {
                "1 user".to_string()
            } else {
                format!("{} users", super::format::count(n))
            }
        };
        match self {
            Undone::Deleted(1) => "The user is back.".to_string(),
            Undone::Deleted(n) => format!("{} users are back.", super::format::count(n)),
            Undone::Status(StatusUndo { restored, kept }) => {
                let mut text = match restored {
                    0 => "No user was set back.".to_string(),
                    1 => "The user has their previous status again.".to_string(),
                    n => format!("{} have their previous status again.", users(n)),
                };
                if kept > 0 {
                    let was = if kept == 1 { "was" } else { "were" };
                    text.push_str(&format!(
                        " {} changed since {was} left as they are.",
                        users(kept)
                    ));
                }
                text
            }
        }
    }
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Self {
        Notice {
            id: 0,
            text: text.into(),
            error: false,
            undo: None,
        }
    }
    pub fn error(text: impl Into<String>) -> Self {
        Notice {
            id: 0,
            text: text.into(),
            error: true,
            undo: None,
        }
    }
    pub fn undoable(text: impl Into<String>, undo: Undo) -> Self {
        Notice {
            id: 0,
            text: text.into(),
            error: false,
            undo: Some(undo),
        }
    }
}

/// Shows `notice`, and removes it after [`NOTICE_TIME`] (errors stay until closed).
pub fn push(list: RwSignal<Vec<Notice>>, mut notice: Notice) {
    let id = list.with_untracked(|l| l.iter().map(|n| n.id).max().unwrap_or(0) + 1);
    notice.id = id;
    let sticky = notice.error;
    list.update(|l| l.push(notice));
    if !sticky {
        set_timeout(move || dismiss(list, id), NOTICE_TIME);
    }
}

fn dismiss(list: RwSignal<Vec<Notice>>, id: u64) {
    list.try_update(|l| l.retain(|n| n.id != id));
}

#[component]
pub fn Notices() -> impl IntoView {
    let ctx = use_users_ctx();
    let undo = Action::new(|(_, what): &(u64, Undo)| {
        let what = *what;
        async move {
            match what {
                Undo::Delete(deletion) => undo_delete(deletion).await.map(Undone::Deleted),
                Undo::Status(change) => undo_status_change(change).await.map(Undone::Status),
            }
        }
    });
    Effect::new(move |_| {
        if let Some(result) = undo.value().get() {
            match result {
                Ok(undone) => {
                    ctx.changed();
                    ctx.undone.update(|n| *n += 1);
                    ctx.notify(undone.text());
                }
                Err(e) => ctx.alert(format!("Undo failed: {e}")),
            }
        }
    });
    view! {
        <div class="notices" role="status" aria-live="polite" aria-label="Notices">
            <super::bulk_jobs::BulkJobs ctx/>
            <For each=move || ctx.notices.get() key=|n| n.id let:n>
                {
                    let id = n.id;
                    view! {
                        <div class="notice" class:error=n.error role=if n.error { "alert" } else { "none" }>
                            <span>{n.text.clone()}</span>
                            {n.undo.map(|what| view! {
                                <button type="button" class="link" on:click=move |_| {
                                    dismiss(ctx.notices, id);
                                    undo.dispatch((id, what));
                                }>"Undo"</button>
                            })}
                            <button type="button" class="ghost icon small" aria-label="Dismiss notice"
                                on:click=move |_| dismiss(ctx.notices, id)>"×"</button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undone_status_change_says_who_kept_a_newer_state() {
        let text = |restored, kept| Undone::Status(StatusUndo { restored, kept }).text();
        assert_eq!(text(1, 0), "The user has their previous status again.");
        assert_eq!(
            text(1200, 0),
            "1,200 users have their previous status again."
        );
        assert_eq!(
            text(61, 2),
            "61 users have their previous status again. 2 users changed since were left as they are."
        );
        assert_eq!(
            text(0, 1),
            "No user was set back. 1 user changed since was left as they are."
        );
        assert_eq!(Undone::Deleted(3).text(), "3 users are back.");
    }
}
