//! The detail drawer at /users/:id: a dialog named after the user with every field,
//! tags, groups and devices. Esc or the close button returns to the list.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{use_go, use_user_query};
use crate::api::users::get_user;
use crate::domain::AppError;

pub use super::user_panel::UserPanel;

#[component]
pub fn UserDrawer() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|s| s.parse::<i64>().ok()));
    // Fetched again after this drawer's own commands (`reload`), not after every
    // change on the page, so an edit in progress is never replaced under the admin.
    let reload = RwSignal::new(0u64);
    // Busy until the user's content is interactive in the browser (after hydration).
    let (ready, set_ready) = signal(false);
    let (live, set_live) = signal(false);
    Effect::new(move |_| set_live.set(true));
    let ctx = super::use_users_ctx();
    let user = Resource::new(
        move || (id.get(), reload.get() + ctx.undone.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_user(id).await,
                None => Err(AppError::NotFound("That user".into())),
            }
        },
    );
    let query = use_user_query();
    let go = use_go();
    // Back to the list, with keyboard focus on the row the drawer was opened from
    // (in the next frame: navigating disposes this drawer and redraws first).
    let close = move || {
        let opened_from = id.get_untracked();
        go.to(query.get_untracked(), false);
        if let Some(user_id) = opened_from {
            request_animation_frame(move || {
                use wasm_bindgen::JsCast;
                if let Some(row) = document()
                    .get_element_by_id(&super::users_table::row_dom_id(user_id))
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = row.focus();
                }
            });
        }
    };

    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            close();
        }
    });
    on_cleanup(move || handle.remove());

    let panel = NodeRef::<leptos::html::Aside>::new();
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            let _ = el.focus();
        }
    });

    let head = move |title: String| {
        view! {
            <header class="drawer-head">
                <h2 id="drawer-title">{title}</h2>
                <button type="button" class="ghost icon" aria-label="Close" on:click=move |_| close()>"×"</button>
            </header>
        }
    };

    view! {
        <div class="drawer-backdrop" on:click=move |_| close()></div>
        <aside node_ref=panel class="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title" tabindex="-1"
            aria-busy=move || (!ready.get()).to_string()
            on:keydown=move |ev| if ev.key() == "Tab" { keep_focus_inside(&ev, panel) }>
            <Transition fallback=move || view! {
                {head("Loading user…".to_string())}
                <p class="drawer-body" role="status">"Loading…"</p>
            }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(u) => {
                            let title = u.display_name();
                            // The panel is drawn in the browser only, after hydration: it holds
                            // browser-only data and forms, and the server's timing of nested
                            // resources must never make the two disagree.
                            view! {
                                {head(title)}
                                <Show when=move || live.get() fallback=|| view! { <p class="drawer-body" role="status">"Loading…"</p> }>
                                    <UserPanel user=u.clone() reload on_ready=Callback::new(move |_| set_ready.set(true))/>
                                </Show>
                            }.into_any()
                        }
                        Err(e) => view! {
                            {head("User not available".to_string())}
                            <p class="drawer-body state error" role="alert">{e.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </aside>
    }
}

/// Tab from the last control goes to the first, Shift+Tab from the first to the last.
fn keep_focus_inside(ev: &web_sys::KeyboardEvent, panel: NodeRef<leptos::html::Aside>) {
    use wasm_bindgen::JsCast;
    let Some(panel) = panel.get() else { return };
    let Ok(nodes) =
        panel.query_selector_all("button, [href], input, select, textarea, [tabindex='0']")
    else {
        return;
    };
    let focusable: Vec<web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        return;
    };
    let active = document().active_element();
    let on = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
    };
    let outside = active
        .as_ref()
        .is_none_or(|a| !panel.contains(Some(a)) || a == panel.unchecked_ref::<web_sys::Element>());
    if ev.shift_key() && (on(first) || outside) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && (on(last) || outside) {
        ev.prevent_default();
        let _ = first.focus();
    }
}
