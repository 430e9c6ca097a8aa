//! The drawer's activity timeline: one stream, newest first, grouped by day; filter by
//! kind, load more, add a note by hand, delete an entry, download everything as CSV.
//! While the drawer is open it refreshes itself every few seconds.

use std::time::Duration;

use leptos::prelude::*;

use super::{format, use_users_ctx};
use crate::api::activity::{add_timeline_entry, delete_timeline_entry, user_timeline};
use crate::domain::activity::{ActivityKind, TimelineEntry, TIMELINE_PAGE};
use crate::domain::dates::format_day;
use crate::domain::permissions::USERS_WRITE;

/// Bumped when the drawer is scrolled to (near) its end.
#[derive(Clone, Copy)]
pub struct ScrollEnd(pub RwSignal<u64>);

/// How often an open timeline asks for news.
const REFRESH: Duration = Duration::from_secs(5);

#[component]
pub fn Timeline(user_id: i64) -> impl IntoView {
    let ctx = use_users_ctx();
    let can_write = ctx.can(USERS_WRITE);
    let kinds = RwSignal::new(ActivityKind::ALL.to_vec());
    let shown = RwSignal::new(TIMELINE_PAGE);
    let tick = RwSignal::new(0u64);
    // Browser-only data (see UserPanel): empty on the server and while hydrating.
    let timeline = LocalResource::new(move || {
        tick.track();
        ctx.revision.track();
        let chosen = kinds.get();
        let limit = shown.get();
        async move {
            let filter = if chosen.len() == ActivityKind::ALL.len() {
                Vec::new()
            } else {
                chosen
            };
            user_timeline(user_id, filter, 0, limit).await
        }
    });
    // Only in the browser (effects never run on the server, where timers do not exist).
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH) {
            on_cleanup(move || handle.clear());
        }
    });
    // Load more as the admin scrolls: when the drawer's end comes into view and the
    // last page came back full, ask for one page more.
    if let Some(ScrollEnd(end)) = use_context::<ScrollEnd>() {
        Effect::new(move |prev: Option<u64>| {
            let n = end.get();
            if prev.is_some_and(|p| p != n) {
                let full = timeline.with_untracked(|t| {
                    t.as_ref()
                        .and_then(|r| r.as_ref().ok())
                        .is_some_and(|page| {
                            page.more && page.entries.len() as u32 >= shown.get_untracked()
                        })
                });
                if full {
                    shown.update(|s| *s += TIMELINE_PAGE);
                }
            }
            n
        });
    }
    let (text, set_text) = signal(String::new());
    let (when, set_when) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let add = Action::new(move |(text, at): &(String, Option<i64>)| {
        let (text, at) = (text.clone(), *at);
        async move {
            match add_timeline_entry(user_id, text, at).await {
                Ok(()) => {
                    set_text.try_set(String::new());
                    set_when.try_set(String::new());
                    set_error.try_set(None);
                    tick.try_update(|t| *t += 1);
                }
                Err(e) => {
                    set_error.try_set(Some(e.summary()));
                }
            }
        }
    });
    let delete = Action::new(move |id: &i64| {
        let id = *id;
        async move {
            match delete_timeline_entry(user_id, id).await {
                Ok(()) => {
                    ctx.notify("Timeline entry deleted.");
                    tick.try_update(|t| *t += 1);
                }
                Err(e) => ctx.alert(format!("The entry was not deleted: {e}")),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let at = match when.get_untracked().trim() {
            "" => None,
            w => match parse_local_minute(w) {
                Some(secs) => Some(secs),
                None => {
                    set_error.set(Some("Enter the time as YYYY-MM-DD HH:MM.".into()));
                    return;
                }
            },
        };
        add.dispatch((text.get_untracked(), at));
    };
    let toggle_kind = move |k: ActivityKind, on: bool| {
        kinds.update(|ks| {
            ks.retain(|x| *x != k);
            if on {
                ks.push(k);
                ks.sort();
            }
        });
        shown.set(TIMELINE_PAGE);
    };

    view! {
        <section aria-labelledby="drawer-activity" class="timeline">
            <div class="section-head">
                <h3 id="drawer-activity">"Activity"</h3>
                <a class="button small" href=format!("/users/{user_id}/activity.csv") download>"Download CSV"</a>
            </div>
            <fieldset class="kinds">
                <legend class="visually-hidden">"Show"</legend>
                {ActivityKind::ALL.into_iter().map(|k| view! {
                    <label class="check">
                        <input type="checkbox" checked=true prop:checked=move || kinds.read().contains(&k)
                            on:change=move |ev| toggle_kind(k, event_target_checked(&ev))/>
                        {k.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            {can_write.then(|| view! {
                <form class="entry-form" on:submit=submit>
                    <label for="new-entry">"Add an entry"</label>
                    <textarea id="new-entry" rows="2" placeholder="What happened, e.g. “Called about the invoice”"
                        prop:value=move || text.get() on:input=move |ev| set_text.set(event_target_value(&ev))
                        aria-describedby="new-entry-error"></textarea>
                    <div class="entry-row">
                        <label>"When (UTC, optional)"
                            <input type="datetime-local" prop:value=move || when.get()
                                on:input=move |ev| set_when.set(event_target_value(&ev))/>
                        </label>
                        <button type="submit" disabled=move || add.pending().get() || text.read().trim().is_empty()>"Add entry"</button>
                    </div>
                    <p id="new-entry-error" class="field-error" role="alert">{move || error.get()}</p>
                </form>
            })}
            {move || match timeline.get() {
                None => view! { <p class="muted" role="status">"Loading activity…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="state error" role="alert">{format!("The activity could not be loaded: {e}")}</p> }.into_any(),
                Some(Ok(page)) if page.entries.is_empty() => view! { <p class="muted">"No activity yet."</p> }.into_any(),
                Some(Ok(page)) => {
                    let more = page.more;
                    view! {
                        <LastAccess entries=page.entries.clone()/>
                        {by_day(page.entries).into_iter().map(|(day, entries)| view! {
                            <h4 class="day">{day.clone()}</h4>
                            <ul class="entries" aria-label=format!("Activity on {day}")>
                                {entries.into_iter().map(|e| view! { <Entry entry=e can_write delete/> }).collect_view()}
                            </ul>
                        }).collect_view()}
                        {more.then(|| view! {
                            <button type="button" on:click=move |_| shown.update(|s| *s += TIMELINE_PAGE)>"Load more"</button>
                        })}
                    }.into_any()
                }
            }}
        </section>
    }
}

/// The newest pages and features, at the top of the timeline.
#[component]
fn LastAccess(entries: Vec<TimelineEntry>) -> impl IntoView {
    let recent: Vec<TimelineEntry> = entries
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                ActivityKind::PageView | ActivityKind::Feature | ActivityKind::SignIn
            )
        })
        .take(3)
        .collect();
    (!recent.is_empty()).then(|| {
        view! {
            <p class="last-access">
                <strong>"Last access: "</strong>{format::date_time(&recent[0].at)}
                " · "{recent.iter().map(|e| e.name.clone()).collect::<Vec<_>>().join(", ")}
            </p>
        }
    })
}

#[component]
fn Entry(entry: TimelineEntry, can_write: bool, delete: Action<i64, ()>) -> impl IntoView {
    let id: Option<i64> = entry.key.strip_prefix('a').and_then(|s| s.parse().ok());
    let time = format::date_time(&entry.at);
    let time = time.split(' ').nth(1).unwrap_or_default().to_string();
    let label = format!("{} {}", entry.kind.label(), entry.name);
    view! {
        <li class=format!("entry kind-{}", entry.kind.as_str())>
            <span class="time">{time}</span>
            <span class="kind">{entry.kind.label()}</span>
            <span class="what">{headline(&entry)}
                {if entry.kind == ActivityKind::AdminChange {
                    view! { <super::changes::Changes lines=entry.changes.clone() raw=entry.detail.clone()/> }.into_any()
                } else {
                    (!entry.detail.is_empty()).then(|| view! { <span class="detail">{entry.detail.clone()}</span> }).into_any()
                }}
            </span>
            <span class="source muted">{entry.source.clone()}</span>
            {(entry.deletable && can_write).then(|| id.map(|id| view! {
                <button type="button" class="ghost small" aria-label=format!("Delete entry {label}")
                    on:click=move |_| { delete.dispatch(id); }>"Delete"</button>
            }))}
        </li>
    }
}

/// The entry's line: an admin change in words (an opt-in change says which way), else
/// the page, feature or note itself.
fn headline(entry: &TimelineEntry) -> String {
    if entry.kind != ActivityKind::AdminChange {
        return entry.name.clone();
    }
    let opt_in = serde_json::from_str::<serde_json::Value>(&entry.detail)
        .ok()
        .and_then(|d| d.get("email_opt_in").and_then(serde_json::Value::as_bool));
    match (entry.name.as_str(), opt_in) {
        ("user.update", Some(true)) => "Email communication: opted in".to_string(),
        ("user.update", Some(false)) => "Email communication: opted out".to_string(),
        (action, _) => describe_action(action).to_string(),
    }
}

/// What an audit action means, for the timeline.
pub fn describe_action(action: &str) -> &str {
    match action {
        "user.create" => "Created",
        "user.update" => "Profile edited",
        "user.status" => "Status changed",
        "user.role" => "Role changed",
        "user.tags" | "user.tag_add" | "user.tag_remove" => "Tags changed",
        "user.groups" | "user.group_add" | "user.group_remove" => "Groups changed",
        "user.device_remove" => "Device removed",
        "user.comment_add" => "Comment added",
        "user.comment_delete" => "Comment deleted",
        "user.delete" => "Deleted",
        "user.restore" => "Restored",
        "activity.delete" => "Timeline entry deleted",
        "reminder.add" => "Reminder added",
        "reminder.update" => "Reminder changed",
        "reminder.delete" => "Reminder deleted",
        other => other,
    }
}

/// Entries grouped by their UTC day, in the order given.
fn by_day(entries: Vec<TimelineEntry>) -> Vec<(String, Vec<TimelineEntry>)> {
    let mut out: Vec<(String, Vec<TimelineEntry>)> = Vec::new();
    for e in entries {
        let day = format_day(e.at.date_naive());
        match out.last_mut() {
            Some((d, list)) if *d == day => list.push(e),
            _ => out.push((day, vec![e])),
        }
    }
    out
}

/// `2026-11-22T13:05` (a datetime-local value, taken as UTC) -> Unix seconds.
pub fn parse_local_minute(s: &str) -> Option<i64> {
    let (day, time) = s.split_once('T').or_else(|| s.split_once(' '))?;
    let day = crate::domain::dates::parse_day(day)?;
    let (h, m) = time.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    Some(day.and_hms_opt(h, m, 0)?.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_minutes_parse_as_utc() {
        assert_eq!(parse_local_minute("2026-01-02T03:04"), Some(1767323040));
        assert_eq!(parse_local_minute("2026-01-02 03:04"), Some(1767323040));
        assert_eq!(parse_local_minute("2026-13-02T03:04"), None);
        assert_eq!(parse_local_minute("yesterday"), None);
    }

    #[test]
    fn admin_changes_read_as_words_and_opt_in_changes_say_which_way() {
        let e = |name: &str, detail: &str| TimelineEntry {
            key: "l1".into(),
            at: "2026-01-02T10:00:00Z".parse().expect("time"),
            kind: ActivityKind::AdminChange,
            name: name.into(),
            detail: detail.into(),
            source: "a@x.io".into(),
            deletable: false,
            changes: Vec::new(),
        };
        assert_eq!(
            headline(&e("user.update", r#"{"email_opt_in": true}"#)),
            "Email communication: opted in"
        );
        assert_eq!(
            headline(&e("user.update", r#"{"email_opt_in":false,"note":"x"}"#)),
            "Email communication: opted out"
        );
        assert_eq!(
            headline(&e("user.update", r#"{"note":"x"}"#)),
            "Profile edited"
        );
        assert_eq!(headline(&e("user.tags", "")), "Tags changed");
        assert_eq!(headline(&e("something.new", "")), "something.new");
    }

    #[test]
    fn entries_group_by_day_in_order() {
        let e = |at: &str| TimelineEntry {
            key: "a1".into(),
            at: at.parse().expect("time"),
            kind: ActivityKind::Manual,
            name: String::new(),
            detail: String::new(),
            source: String::new(),
            deletable: true,
            changes: Vec::new(),
        };
        let groups = by_day(vec![
            e("2026-01-02T10:00:00Z"),
            e("2026-01-02T09:00:00Z"),
            e("2026-01-01T23:00:00Z"),
        ]);
        let shape: Vec<(&str, usize)> = groups.iter().map(|(d, l)| (d.as_str(), l.len())).collect();
        assert_eq!(shape, vec![("2026-01-02", 2), ("2026-01-01", 1)]);
    }
}
