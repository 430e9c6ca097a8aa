//! Reminders on one user, in the drawer: add (due time and text), edit, mark done,
//! delete.

use leptos::prelude::*;

use super::signed_in::RemindersChanged;
use super::{format, use_users_ctx};
use crate::api::activity::{add_reminder, delete_reminder, update_reminder, user_reminders};
use crate::domain::activity::ReminderInfo;
use crate::domain::dates::format_day;
use crate::domain::permissions::USERS_WRITE;

/// A `datetime-local` value (taken as UTC) for Unix seconds, and back.
pub fn local_value(at: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    format!(
        "{}T{:02}:{:02}",
        format_day(at.date_naive()),
        at.hour(),
        at.minute()
    )
}

pub use super::timeline::parse_local_minute;

#[component]
pub fn Reminders(user_id: i64) -> impl IntoView {
    let ctx = use_users_ctx();
    let reminders_changed = use_context::<RemindersChanged>();
    let can_write = ctx.can(USERS_WRITE);
    let version = RwSignal::new(0u64);
    let list = LocalResource::new(move || {
        version.track();
        user_reminders(user_id)
    });
    let (due, set_due) = signal(String::new());
    let (text, set_text) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let add = Action::new(move |(due, body): &(i64, String)| {
        let (due, body) = (*due, body.clone());
        async move {
            match add_reminder(user_id, due, body).await {
                Ok(()) => {
                    set_text.try_set(String::new());
                    set_due.try_set(String::new());
                    set_error.try_set(None);
                    version.try_update(|v| *v += 1);
                    ctx.changed();
                    RemindersChanged::bump(reminders_changed);
                }
                Err(e) => {
                    set_error.try_set(Some(e.summary()));
                }
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match parse_local_minute(&due.get_untracked()) {
            Some(at) => {
                add.dispatch((at, text.get_untracked()));
            }
            None => set_error.set(Some("Choose when the reminder is due.".into())),
        }
    };
    view! {
        <section aria-labelledby="drawer-reminders">
            <h3 id="drawer-reminders">"Reminders"</h3>
            {move || match list.get() {
                None => view! { <p class="muted" role="status">"Loading reminders…"</p> }.into_any(),
                Some(Err(e)) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(items)) if items.is_empty() => view! { <p class="muted">"No reminders."</p> }.into_any(),
                Some(Ok(items)) => view! {
                    <ul class="reminders" aria-label="Reminders">
                        {items.into_iter().map(|r| view! { <ReminderItem reminder=r version can_write/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            {can_write.then(|| view! {
                <form class="reminder-form" on:submit=submit>
                    <label>"Due (UTC)"
                        <input type="datetime-local" prop:value=move || due.get() on:input=move |ev| set_due.set(event_target_value(&ev))/>
                    </label>
                    <label class="grow">"Reminder"
                        <input type="text" placeholder="e.g. Call about the renewal" prop:value=move || text.get()
                            on:input=move |ev| set_text.set(event_target_value(&ev))/>
                    </label>
                    <button type="submit" disabled=move || add.pending().get()>"Add reminder"</button>
                    <p class="field-error" role="alert">{move || error.get()}</p>
                </form>
            })}
        </section>
    }
}

#[component]
fn ReminderItem(reminder: ReminderInfo, version: RwSignal<u64>, can_write: bool) -> impl IntoView {
    let ctx = use_users_ctx();
    let reminders_changed = use_context::<RemindersChanged>();
    let id = reminder.id;
    let (editing, set_editing) = signal(false);
    let (due, set_due) = signal(local_value(&reminder.due_at));
    let (text, set_text) = signal(reminder.body.clone());
    let (error, set_error) = signal(None::<String>);
    let save = Action::new(move |(due, body, done): &(i64, String, bool)| {
        let (due, body, done) = (*due, body.clone(), *done);
        async move {
            match update_reminder(id, due, body, done).await {
                Ok(()) => {
                    set_editing.try_set(false);
                    version.try_update(|v| *v += 1);
                    ctx.changed();
                    RemindersChanged::bump(reminders_changed);
                }
                Err(e) => {
                    set_error.try_set(Some(e.summary()));
                }
            }
        }
    });
    let remove = Action::new(move |_: &()| async move {
        match delete_reminder(id).await {
            Ok(()) => {
                version.try_update(|v| *v += 1);
                ctx.changed();
                RemindersChanged::bump(reminders_changed);
            }
            Err(e) => ctx.alert(format!("The reminder was not deleted: {e}")),
        }
    });
    let due_secs = reminder.due_at.timestamp();
    let body = reminder.body.clone();
    let done = reminder.done;
    let overdue = !done && reminder.due_at < format::now();
    view! {
        <li class="reminder" class:done=done class:overdue=overdue>
            <Show when=move || editing.get() fallback={
                let body = body.clone();
                let label = reminder.body.clone();
                move || view! {
                    <label class="check">
                        <input type="checkbox" checked=done disabled=!can_write aria-label=format!("Done: {label}")
                            on:change={ let body = body.clone(); move |ev| { save.dispatch((due_secs, body.clone(), event_target_checked(&ev))); } }/>
                        <span class="due">{format::date_time(&reminder.due_at)}</span>
                    </label>
                    <span class="body">{body.clone()}</span>
                    {can_write.then(|| view! {
                        <button type="button" class="ghost small" aria-label=format!("Edit reminder {label}") on:click=move |_| set_editing.set(true)>"Edit"</button>
                        <button type="button" class="ghost small" aria-label=format!("Delete reminder {label}") on:click=move |_| { remove.dispatch(()); }>"Delete"</button>
                    })}
                }
            }>
                <form class="reminder-form" on:submit=move |ev| {
                    ev.prevent_default();
                    match parse_local_minute(&due.get_untracked()) {
                        Some(at) => { save.dispatch((at, text.get_untracked(), done)); }
                        None => set_error.set(Some("Choose when the reminder is due.".into())),
                    }
                }>
                    <input type="datetime-local" aria-label="Due (UTC)" prop:value=move || due.get() on:input=move |ev| set_due.set(event_target_value(&ev))/>
                    <input type="text" class="grow" aria-label="Reminder" prop:value=move || text.get() on:input=move |ev| set_text.set(event_target_value(&ev))/>
                    <button type="submit" class="small primary">"Save"</button>
                    <button type="button" class="small" on:click=move |_| set_editing.set(false)>"Cancel"</button>
                </form>
            </Show>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </li>
    }
}
