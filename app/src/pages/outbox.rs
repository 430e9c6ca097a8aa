//! The Outbox: the emails Roster wrote (reset links, temporary passwords,
//! invitations), newest first. Without `SMTP_URL` this is where they stay, so the
//! flows can be tried without a mail server; with it, each shows when it was sent.

use leptos::prelude::*;

use crate::api::accounts::list_outbox;
use crate::components::format;
use crate::components::signed_in::{SignedIn, TopBar};
use crate::domain::email::OutboxEmail;
use crate::domain::permissions::USERS_PASSWORDS;
use crate::domain::AdminInfo;

#[component]
pub fn OutboxPage() -> impl IntoView {
    view! { <SignedIn permission=USERS_PASSWORDS page=|me| view! { <Outbox me/> }/> }
}

/// "Sent 12 Mar 2026, 10:04" or "Not sent (kept in the outbox)".
pub fn delivery_text(email: &OutboxEmail) -> String {
    match (&email.sent_at, &email.error) {
        (Some(at), _) => format!("Sent {}", format::date_time(at)),
        (None, Some(e)) => format!("Not sent: {e}"),
        (None, None) => "Kept in the outbox".to_string(),
    }
}

#[component]
fn Outbox(me: AdminInfo) -> impl IntoView {
    let version = RwSignal::new(0u64);
    let list = LocalResource::new(move || {
        version.track();
        list_outbox()
    });
    let live = crate::components::use_live();
    view! {
        <div class="app">
            <TopBar me current="outbox" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <div class="page-head">
                    <h1>"Outbox"</h1>
                    <div class="head-actions">
                        <button type="button" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
                    </div>
                </div>
                <p class="muted">"The 100 newest emails to users: password resets, temporary passwords and invitations. When no mail server is set up (SMTP_URL), they are kept here."</p>
                {move || match live.get().then(|| list.get()).flatten() {
                    None => view! { <p role="status">"Loading emails…"</p> }.into_any(),
                    Some(Err(e)) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                    Some(Ok(items)) if items.is_empty() => view! {
                        <div class="state empty"><p><strong>"No emails yet."</strong></p>
                        <p>"Reset a password or send an invitation from a user's menu, and the email appears here."</p></div>
                    }.into_any(),
                    Some(Ok(items)) => view! {
                        <ul class="outbox" aria-label="Emails">
                            {items.into_iter().map(|m| {
                                let label = format!("{} to {}", m.subject, m.to);
                                view! {
                                    <li>
                                        <article aria-label=label>
                                            <header class="outbox-head">
                                                <strong>{m.subject.clone()}</strong>
                                                <span class="muted">" to "{m.to.clone()}" · "{m.language.clone()}</span>
                                                <span class="muted small nowrap">{format::date_time(&m.created_at)}" · "{delivery_text(&m)}</span>
                                            </header>
                                            <pre class="outbox-body">{m.body.clone()}</pre>
                                        </article>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </main>
        </div>
    }
}
