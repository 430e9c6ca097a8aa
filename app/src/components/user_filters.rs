//! The filter bar: live search, status, signup date range, tags with a match mode.
//! Every change goes into the URL; the table follows the URL.

use std::time::Duration;

use leptos::prelude::*;

use super::{use_go, use_user_query};
use crate::api::users::list_tags;
use crate::domain::dates::{format_day, parse_day};
use crate::domain::{Status, StatusFilter, TagMode, UserQuery};

/// How long typing must pause before the search runs: short, so the table follows
/// within 150 ms of the last key; a search per key while typing is cheap (each takes a
/// few milliseconds, and a newer one replaces the one before).
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(90);

/// Search text as the URL keeps it: words separated by one space.
fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// During hydration, what the search box holds: what was typed before the page became
/// interactive (the server-rendered box works, and hydration must not wipe it; the
/// focus comes back by itself, see `App`).
fn typed_before_hydration() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        document()
            .get_element_by_id("user-search")?
            .dyn_into::<web_sys::HtmlInputElement>()
            .ok()
            .map(|input| input.value())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

#[component]
pub fn UserFilters() -> impl IntoView {
    let query = use_user_query();
    let go = use_go();

    // Search: the box holds what is typed; the URL follows after a pause. What was
    // typed before the page became interactive is kept and searched for.
    let url_q = query.get_untracked().q.clone();
    let typed = typed_before_hydration().filter(|t| normalized(t) != url_q);
    let (text, set_text) = signal(typed.clone().unwrap_or(url_q));
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let search_now = move |value: &str| {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let q = UserQuery {
            q: normalized(value),
            ..query.get_untracked()
        };
        if q.q != query.get_untracked().q {
            go.to(q.first_page(), true);
        }
    };
    let search_soon = move |value: String| {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(move || search_now(&value), SEARCH_DEBOUNCE).ok();
        pending.set_value(handle);
    };
    let on_search = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        set_text.set(value.clone());
        search_soon(value);
    };
    // Enter searches at once (and before hydration the form does it with a GET).
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        search_now(&text.get_untracked());
    };
    if let Some(value) = typed {
        Effect::new(move |_| search_now(&value));
    }
    // Back/forward or "Clear filters" change the URL under the box: follow it.
    Effect::watch(
        move || query.read().q.clone(),
        move |q, _, _| {
            if normalized(&text.get_untracked()) != *q {
                set_text.set(q.clone());
            }
        },
        false,
    );
    // The other filters of the view, carried by the search form's GET.
    let kept = move || {
        let rest = UserQuery {
            q: String::new(),
            ..query.get()
        }
        .first_page()
        .to_query_string();
        form_urlencoded::parse(rest.as_bytes())
            .into_owned()
            .collect::<Vec<_>>()
    };

    let status_href = move |status: StatusFilter| {
        UserQuery {
            status,
            ..query.get()
        }
        .first_page()
        .href()
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
            <form class="search" role="search" method="get" action="/users" on:submit=on_submit>
                <label for="user-search" class="visually-hidden">"Search users"</label>
                <input id="user-search" name="q" type="search" placeholder="Name, email, username, phone…"
                    autocomplete="off" spellcheck="false"
                    value=move || text.get() prop:value=move || text.get() on:input=on_search/>
                {move || kept().into_iter().map(|(name, value)| view! {
                    <input type="hidden" name=name value=value/>
                }).collect_view()}
            </form>
            <nav class="segmented" aria-label="Status">
                {statuses.into_iter().map(|(value, label)| {
                    let current = move || query.read().status == value;
                    view! {
                        <a href=move || status_href(value) data-noscroll="" class:checked=current
                            aria-current=move || current().then_some("true")>
                            {label}
                        </a>
                    }
                }).collect_view()}
            </nav>
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
                    {move || {
                    // Loaded when the list opens, not with every page: the counts per
                    // tag read the memberships (20 ms of the page at 1M users).
                    let tags = Resource::new(|| (), |_| list_tags());
                    view! {
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
                    }
                    }}
                </Show>
            </div>
        </div>
    }
}
