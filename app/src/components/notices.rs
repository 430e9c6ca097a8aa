//! Notices after a command: "3 users banned", errors, and the Undo offer after a
//! delete. They sit in a live region and leave by themselves after a few seconds.

use std::time::Duration;

use leptos::prelude::*;

use super::use_users_ctx;
use crate::api::lifecycle::undo_delete;

/// How long a notice (and its Undo button) stays.
pub const NOTICE_TIME: Duration = Duration::from_secs(8);

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub id: u64,
    pub text: String,
    pub error: bool,
    /// A delete that Undo brings back.
    pub undo: Option<i64>,
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
    pub fn undoable(text: impl Into<String>, deletion: i64) -> Self {
        Notice {
            id: 0,
            text: text.into(),
            error: false,
            undo: Some(deletion),
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
    let undo = Action::new(|(_, deletion): &(u64, i64)| undo_delete(*deletion));
    Effect::new(move |_| {
        if let Some(result) = undo.value().get() {
            match result {
                Ok(n) => {
                    ctx.changed();
                    ctx.notify(if n == 1 {
                        "The user is back.".to_string()
                    } else {
                        format!("{n} users are back.")
                    });
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
                            {n.undo.map(|deletion| view! {
                                <button type="button" class="link" on:click=move |_| {
                                    dismiss(ctx.notices, id);
                                    undo.dispatch((id, deletion));
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
