//! The Reminders view: open reminders due today or overdue, across all users; each
//! links to its user and can be marked done here.

use leptos::prelude::*;

use crate::api::activity::{due_reminders, update_reminder};
use crate::components::format;
use crate::components::signed_in::RemindersChanged;
use crate::components::signed_in::{SignedIn, TopBar};
use crate::domain::permissions::USERS_WRITE;
use crate::domain::AdminInfo;

#[component]
pub fn RemindersPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <DueReminders me/> }/> }
}

#[component]
fn DueReminders(me: AdminInfo) -> impl IntoView {
    let can_write = me.can(USERS_WRITE);
    let version = RwSignal::new(0u64);
    let reminders_changed = use_context::<RemindersChanged>();
    // Loaded in the browser: "due" depends on the clock, so never from a cached page.
    let list = LocalResource::new(move || {
        version.track();
        due_reminders()
    });
    let live = crate::components::use_live();
    let (notice, set_notice) = signal(String::new());
    let done = Action::new(move |r: &crate::domain::activity::ReminderInfo| {
        let r = r.clone();
        async move {
            match update_reminder(r.id, r.due_at.timestamp(), r.body.clone(), true).await {
                Ok(()) => {
                    set_notice.try_set(format!("Done: {}", r.body));
                    version.try_update(|v| *v += 1);
                    RemindersChanged::bump(reminders_changed);
                }
                Err(e) => {
                    set_notice.try_set(format!("Not saved: {e}"));
                }
            }
        }
    });
    let now = format::now();
    view! {
        <div class="app">
            <TopBar me current="reminders" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <div class="page-head"><h1>"Reminders"</h1></div>
                <p class="muted">"Open reminders due today or earlier, for every user."</p>
                <p class="notice-line" role="status">{move || notice.get()}</p>
                {move || match live.get().then(|| list.get()).flatten() {
                    None => view! { <p role="status">"Loading reminders…"</p> }.into_any(),
                    Some(Err(e)) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                    Some(Ok(items)) if items.is_empty() => view! {
                        <div class="state empty"><p><strong>"Nothing is due."</strong></p>
                        <p>"Reminders you add on a user appear here on the day they are due."</p></div>
                    }.into_any(),
                    Some(Ok(items)) => view! {
                        <div class="table-scroll">
                            <table aria-label="Due reminders">
                                <thead><tr><th scope="col">"Due"</th><th scope="col">"User"</th><th scope="col">"Reminder"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {items.into_iter().map(|r| {
                                        let overdue = r.due_at < now;
                                        let item = r.clone();
                                        view! {
                                            <tr class:overdue=overdue>
                                                <td class="nowrap">{format::date_time(&r.due_at)}{overdue.then_some(" (overdue)")}</td>
                                                <td><a href=format!("/users/{}", r.user_id)>{r.user_name.clone()}</a></td>
                                                <td>{r.body.clone()}</td>
                                                <td>{can_write.then(|| view! {
                                                    <button type="button" class="small" aria-label=format!("Mark done: {}", r.body)
                                                        on:click=move |_| { done.dispatch(item.clone()); }>"Done"</button>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }}
            </main>
        </div>
    }
}
