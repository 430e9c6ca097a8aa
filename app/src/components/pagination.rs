//! Paging: previous / next, page x of y, rows per page, go to page. Links and a GET
//! form, so paging works before the page is interactive too.

use leptos::prelude::*;

use super::format;
use super::{use_go, use_user_query};
use crate::domain::user::page_count;
use crate::domain::{UserQuery, PAGE_SIZES};

#[component]
pub fn Pagination(
    /// The users counted: all of them, or, when `known` is `None`, at least this many.
    total: u64,
    /// The exact total when known.
    known: Signal<Option<u64>>,
) -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let pages = move || page_count(known.get().unwrap_or(total), query.read().per_page);
    // Counting stopped: more pages follow the ones known.
    let more = move || known.get().is_none();
    let page = move || query.read().page;
    let to_page = move |p: u32| {
        go.to(
            UserQuery {
                page: p,
                ..query.get_untracked()
            },
            false,
        )
    };
    // Previous and Next are links, so they work before the page is interactive too.
    let page_href = move |p: u32| {
        UserQuery {
            page: p,
            ..query.get()
        }
        .href()
    };
    let prev_href = move || (page() > 1).then(|| page_href(page() - 1));
    let next_href = move || (page() < pages() || more()).then(|| page_href(page() + 1));
    // What the go-to form carries besides the page (and the page size).
    let kept = move || {
        let rest = UserQuery {
            page: 1,
            per_page: PAGE_SIZES[0],
            ..query.get()
        }
        .to_query_string();
        form_urlencoded::parse(rest.as_bytes())
            .into_owned()
            .collect::<Vec<_>>()
    };
    let set_size = move |ev: leptos::ev::Event| {
        let per_page = event_target_value(&ev).parse().unwrap_or(PAGE_SIZES[0]);
        go.to(
            UserQuery {
                per_page,
                ..query.get_untracked()
            }
            .first_page(),
            false,
        )
    };
    let jump_input = NodeRef::<leptos::html::Input>::new();
    let jump = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(p) = jump_input
            .get()
            .and_then(|i| i.value().trim().parse::<u32>().ok())
        {
            to_page(if more() {
                p.max(1)
            } else {
                p.clamp(1, pages())
            });
        }
    };

    view! {
        <nav class="pagination" aria-label="Pagination">
            <a class="button" href=prev_href data-noscroll="" aria-disabled=move || prev_href().is_none().then_some("true")>"Previous"</a>
            <span class="page-of">{move || format!(
                "Page {} of {}{}",
                format::count(page().into()),
                format::count(pages().into()),
                if more() { "+" } else { "" },
            )}</span>
            <a class="button" href=next_href data-noscroll="" aria-disabled=move || next_href().is_none().then_some("true")>"Next"</a>
            <form class="jump" method="get" action="/users" on:submit=jump>
                {move || kept().into_iter().map(|(name, value)| view! {
                    <input type="hidden" name=name value=value/>
                }).collect_view()}
                <label>"Go to page"
                    <input node_ref=jump_input name="page" type="number" min="1" max=move || (!more()).then(|| pages().to_string()) value=move || page().to_string() prop:value=move || page().to_string()/>
                </label>
                <label class="page-size">"Rows per page"
                    <select name="per_page" on:change=set_size>
                        {PAGE_SIZES.into_iter().map(|n| view! {
                            <option value=n.to_string() selected=move || query.read().per_page == n>{n}</option>
                        }).collect_view()}
                    </select>
                </label>
            </form>
        </nav>
    }
}
