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
                                            <pre class="outbox-body">{linkify(&m.body).into_iter().map(|piece| match piece {
                                                Piece::Text(t) => t.into_any(),
                                                Piece::Link(url) => {
                                                    let text = url.clone();
                                                    view! { <a href=url target="_blank" rel="noopener noreferrer">{text}</a> }.into_any()
                                                }
                                            }).collect_view()}</pre>
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

/// A part of an email's text: plain, or a web link in it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Link(String),
}

/// Cuts an email's plain text into text and its http(s) links (a link ends at a space
/// or a quote; a full stop or a bracket after it is not part of it).
fn linkify(body: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_string()));
        }
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(tail.len());
        while tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')']) {
            end -= 1;
        }
        out.push(Piece::Link(tail[..end].to_string()));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_an_email_are_cut_out_without_their_trailing_punctuation() {
        let body = "Hello,\nSet it at https://roster.example/account/set-password?token=abc.\nOr (http://x.test/a).";
        assert_eq!(
            linkify(body),
            vec![
                Piece::Text("Hello,\nSet it at ".into()),
                Piece::Link("https://roster.example/account/set-password?token=abc".into()),
                Piece::Text(".\nOr (".into()),
                Piece::Link("http://x.test/a".into()),
                Piece::Text(").".into()),
            ]
        );
        assert_eq!(linkify("no links"), vec![Piece::Text("no links".into())]);
        assert_eq!(linkify(""), vec![]);
        // javascript: and other schemes stay text.
        assert_eq!(
            linkify("javascript:alert(1)"),
            vec![Piece::Text("javascript:alert(1)".into())]
        );
    }
}
