//! The filter bar: live search, status, signup date range, tags with a match mode.
//! Every change goes into the URL; the table follows the URL.

use std::time::Duration;

use leptos::prelude::*;

use super::{use_go, use_user_query};
use crate::api::users::list_tags;
use crate::domain::dates::{format_day, parse_day};
use crate::domain::{Status, StatusFilter, TagMode, UserQuery};

/// How long typing must pause before the search runs.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(250);

#[component]
pub fn UserFilters() -> impl IntoView {
    let query = use_user_query();
    let go = use_go();

    // Search: the box holds what is typed; the URL follows after a pause.
    let (text, set_text) = signal(query.get_untracked().q.clone());
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let on_search = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        set_text.set(value.clone());
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                let q = UserQuery {
                    q: value.split_whitespace().collect::<Vec<_>>().join(" "),
                    ..query.get_untracked()
                };
                if q.q != query.get_untracked().q {
                    go.to(q.first_page(), true);
                }
            },
            SEARCH_DEBOUNCE,
        )
        .ok();
        pending.set_value(handle);
    };
    // Back/forward or "Clear filters" change the URL under the box: follow it.
    Effect::new(move |_| {
        let q = query.read().q.clone();
        if text
            .get_untracked()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            != q
        {
            set_text.set(q);
        }
    });

    let set_status = move |status: StatusFilter| {
        go.to(
            UserQuery {
                status,
                ..query.get_untracked()
            }
            .first_page(),
            false,
        )
    };
    let set_date = {
        move |which: &'static str, value: String| {
            let day = parse_day(&value);
            let mut q = query.get_untracked();
            if which == "from" {
                q.signup_from = day;
            } else {
                q.signup_to = day;
            }
            go.to(q.first_page(), false)
        }
    };
    let clear = move |_| go.to(query.get_untracked().without_filters(), false);
    let filtered = move || query.read().is_filtered();
    let date_value = move |which: &'static str| {
        move || {
            let q = query.read();
            let d = if which == "from" {
                q.signup_from
            } else {
                q.signup_to
            };
            d.map(format_day).unwrap_or_default()
        }
    };
    let statuses: Vec<(StatusFilter, &'static str)> = std::iter::once((StatusFilter::All, "All"))
        .chain(
            Status::ALL
                .into_iter()
                .map(|s| (StatusFilter::Only(s), s.label())),
        )
        .collect();

    view! {
        <section class="filters" aria-label="Filters">
            <div class="search">
                <label for="user-search" class="visually-hidden">"Search users"</label>
                <input id="user-search" type="search" placeholder="Search name, email, username, phone, company…"
                    autocomplete="off" spellcheck="false"
                    value=move || text.get() prop:value=move || text.get() on:input=on_search/>
            </div>
            <fieldset class="segmented">
                <legend class="visually-hidden">"Status"</legend>
                {statuses.into_iter().map(|(value, label)| {
                    view! {
                        <label class:checked=move || query.read().status == value>
                            <input type="radio" name="status" value=value.as_str()
                                checked=move || query.read().status == value
                                prop:checked=move || query.read().status == value
                                on:change=move |_| set_status(value)/>
                            {label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <div class="dates">
                <label>"Signed up from"
                    <input type="date" value=date_value("from") prop:value=date_value("from")
                        on:change=move |ev| set_date("from", event_target_value(&ev))/>
                </label>
                <label>"to"
                    <input type="date" aria-label="Signed up to" value=date_value("to") prop:value=date_value("to")
                        on:change=move |ev| set_date("to", event_target_value(&ev))/>
                </label>
            </div>
            <TagFilter/>
            <super::field_filters::FieldFilters/>
            <Show when=filtered>
                <button type="button" class="ghost" on:click=clear>"Clear filters"</button>
            </Show>
        </section>
    }
}

/// Tag choice (a popover of checkboxes) and how the chosen tags combine.
#[component]
fn TagFilter() -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let tags = Resource::new(|| (), |_| list_tags());
    let (open, set_open) = signal(false);

    let toggle_tag = {
        move |name: String| {
            let mut q = query.get_untracked();
            if let Some(pos) = q.tags.iter().position(|t| t.eq_ignore_ascii_case(&name)) {
                q.tags.remove(pos);
            } else {
                q.tags.push(name);
            }
            go.to(q.first_page(), false)
        }
    };
    let set_mode = move |ev: leptos::ev::Event| {
        let mode = TagMode::parse(&event_target_value(&ev)).unwrap_or_default();
        go.to(
            UserQuery {
                tag_mode: mode,
                ..query.get_untracked()
            }
            .first_page(),
            false,
        )
    };
    let chosen = move || query.read().tags.clone();
    let is_chosen = move |name: &str| {
        query
            .read()
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name))
    };

    view! {
        <div class="tag-filter">
            <label>"Tags"
                <select aria-label="Tag match" on:change=set_mode>
                    {TagMode::ALL.into_iter().map(|m| view! {
                        <option value=m.as_str() selected=move || query.read().tag_mode == m>{m.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <ul class="chips" aria-label="Chosen tags">
                {move || {
                    chosen().into_iter().map(move |name| {
                        let n = name.clone();
                        view! {
                            <li class="chip">{name.clone()}
                                <button type="button" aria-label=format!("Remove tag {name}")
                                    on:click=move |_| toggle_tag(n.clone())>"×"</button>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
            <div class="popover-anchor" on:focusout=move |ev| super::close_when_focus_leaves(&ev, set_open)>
                <button type="button" class="ghost" aria-expanded=move || open.get().to_string()
                    aria-controls="tag-options" on:click=move |_| set_open.update(|o| *o = !*o)>
                    "Choose tags"
                </button>
                <Show when=move || open.get()>
                    <div id="tag-options" class="popover" role="group" aria-label="Tags"
                        on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); set_open.set(false) }>
                        <Transition fallback=|| view! { <p role="status">"Loading tags…"</p> }>
                            {
                                move || {
                                    Suspend::new(async move {
                                        match tags.await {
                                            Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                                            Ok(list) if list.is_empty() => view! { <p>"No tags yet."</p> }.into_any(),
                                            Ok(list) => list.into_iter().map(|t| {
                                                let name = t.name.clone();
                                                let check_name = t.name.clone();
                                                view! {
                                                    <label class="check">
                                                        <input type="checkbox"
                                                            prop:checked=move || is_chosen(&check_name)
                                                            on:change=move |_| toggle_tag(name.clone())/>
                                                        <span class="swatch" style=format!("background:{}", t.color)></span>
                                                        {t.name.clone()}
                                                        <span class="muted">{format!(" ({})", t.users)}</span>
                                                    </label>
                                                }
                                            }).collect_view().into_any(),
                                        }
                                    })
                                }
                            }
                        </Transition>
                    </div>
                </Show>
            </div>
        </div>
    }
}
