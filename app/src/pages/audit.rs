//! The Audit log page (`/audit`, permission `audit.read`): every admin action with
//! actor, target, before/after and time; filter by actor, target, action and days
//! (kept in the URL); page through it; download the filtered log as CSV.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::audit::list_audit;
use crate::components::changes::Changes;
use crate::components::signed_in::{SignedIn, TopBar};
use crate::components::{format, use_live};
use crate::domain::audit::{AuditQuery, AuditRecord};
use crate::domain::AdminInfo;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <AuditLog me/> }/> }
}

/// The entry's stored before and after, as they are (behind the "Raw data" disclosure).
fn raw(e: &AuditRecord) -> String {
    let show = |label: &str, v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| format!("{label}: {v}"))
            .unwrap_or_default()
    };
    [show("before", &e.before), show("after", &e.after)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[component]
fn AuditLog(me: AdminInfo) -> impl IntoView {
    let location = use_location();
    let query = Memo::new(move |_| AuditQuery::from_query_string(&location.search.get()));
    let live = use_live();
    let entries = LocalResource::new(move || list_audit(query.get()));
    let initial = query.get_untracked();
    let page_href = move |page: u32| {
        let q = AuditQuery {
            page,
            ..query.get()
        };
        format!("/audit?{}", q.to_query_string())
    };
    let csv_href = move || {
        let q = AuditQuery {
            page: 1,
            ..query.get()
        };
        format!("/audit.csv?{}", q.to_query_string())
    };
    let day = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    view! {
        <div class="app">
            <TopBar me current="audit" inert=Signal::derive(|| false)/>
            <main class="users-main">
                <div class="page-head">
                    <h1>"Audit log"</h1>
                    <a href=csv_href download>"Download CSV"</a>
                </div>
                <form class="filters" method="get" action="/audit" role="search" aria-label="Filter the audit log">
                    <label>"Actor" <input type="search" name="actor" value=initial.actor.clone() placeholder="admin email"/></label>
                    <label>"Target" <input type="search" name="target" value=initial.target.clone() placeholder="user email"/></label>
                    <label>"Action" <input type="search" name="action" value=initial.action.clone() placeholder="user.update or user."/></label>
                    <label>"From" <input type="date" name="from" value=day(initial.from)/></label>
                    <label>"To" <input type="date" name="to" value=day(initial.to)/></label>
                    <button type="submit" class="primary">"Filter"</button>
                    <a href="/audit">"Clear"</a>
                </form>
                {move || {
                    if !live.get() {
                        return view! { <p role="status" aria-busy="true">"Loading the log…"</p> }.into_any();
                    }
                    match entries.get() {
                        None => view! { <p role="status" aria-busy="true">"Loading the log…"</p> }.into_any(),
                        Some(Err(e)) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                        Some(Ok(page)) if page.entries.is_empty() => view! {
                            <div class="state empty"><p><strong>"No entries match."</strong></p>
                            <p><a href="/audit">"Show the whole log"</a></p></div>
                        }.into_any(),
                        Some(Ok(page)) => {
                            let current = query.get().page;
                            let one_command = query.get().batch.is_some();
                            view! {
                                {one_command.then(|| view! {
                                    <p class="notice-line">"Each user's entry of one bulk action. "<a href="/audit">"Back to the whole log"</a></p>
                                })}
                                <div class="table-scroll">
                                    <table aria-label="Audit log">
                                        <thead><tr>
                                            <th scope="col">"Time"</th><th scope="col">"Actor"</th><th scope="col">"Action"</th>
                                            <th scope="col">"Target"</th><th scope="col">"Changes"</th>
                                        </tr></thead>
                                        <tbody>
                                            {page.entries.into_iter().map(|e| {
                                                let target = match (e.batch_size, e.batch_id, e.target_user_id) {
                                                    // A bulk command, listed once: its entries open on their own page.
                                                    (Some(n), Some(batch), _) => view! {
                                                        <a href=format!("/audit?batch={batch}")
                                                            aria-label=format!("{} users: show each entry", format::count(n))>
                                                            {format!("{} users", format::count(n))}
                                                        </a>
                                                    }.into_any(),
                                                    (_, _, Some(id)) => view! { <a href=format!("/users/{id}")>{e.target_email.clone()}</a> }.into_any(),
                                                    _ => view! { <span>{e.target_email.clone()}</span> }.into_any(),
                                                };
                                                view! {
                                                    <tr>
                                                        <td>{format::date_time(&e.at)}</td>
                                                        <td>{e.actor_email.clone()}</td>
                                                        <td><code>{e.action.clone()}</code></td>
                                                        <td class="audit-target">{target}</td>
                                                        <td class="wrap audit-changes"><Changes lines=e.changes.clone() raw=raw(&e)/></td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <nav class="pager" aria-label="Audit log pages">
                                    {(current > 1).then(|| view! { <a href=page_href(current - 1)>"← Newer"</a> })}
                                    <span>{format!("Page {current}")}</span>
                                    {page.more.then(|| view! { <a href=page_href(current + 1)>"Older →"</a> })}
                                </nav>
                            }.into_any()
                        }
                    }
                }}
            </main>
        </div>
    }
}
