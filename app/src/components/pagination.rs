//! Paging: previous / next, page x of y, rows per page, go to page.

use leptos::prelude::*;

use super::format;
use super::{use_go, use_user_query};
use crate::domain::{UserQuery, PAGE_SIZES};

#[component]
pub fn Pagination(total: u64) -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let pages = move || {
        let per = u64::from(query.read().per_page.max(1));
        u32::try_from(total.div_ceil(per).max(1)).unwrap_or(u32::MAX)
    };
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
    let prev = move |_| to_page(page().saturating_sub(1).max(1));
    let next = move |_| to_page((page() + 1).min(pages()));
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
            to_page(p.clamp(1, pages()));
        }
    };

    view! {
        <nav class="pagination" aria-label="Pagination">
            <button type="button" on:click=prev disabled=move || { page() <= 1 }>"Previous"</button>
            <span class="page-of">"Page " {move || format::count(page().into())} " of " {move || format::count(pages().into())}</span>
            <button type="button" on:click=next disabled=move || { page() >= pages() }>"Next"</button>
            <form class="jump" on:submit=jump>
                <label>"Go to page"
                    <input node_ref=jump_input name="page" type="number" min="1" max=move || pages().to_string() value=move || page().to_string() prop:value=move || page().to_string()/>
                </label>
            </form>
            <label class="page-size">"Rows per page"
                <select on:change=set_size>
                    {PAGE_SIZES.into_iter().map(|n| view! {
                        <option value=n.to_string() selected=move || query.read().per_page == n>{n}</option>
                    }).collect_view()}
                </select>
            </label>
        </nav>
    }
}
