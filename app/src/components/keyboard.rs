//! Keys on the users page: `/` search, ↑/↓ or j/k move between rows, Enter opens,
//! Esc closes, `x` checks the focused row, `?` shows this list.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::use_users_ctx;

/// (keys, what they do), for the help overlay.
pub const KEYS: [(&str, &str); 7] = [
    ("/", "Search"),
    ("↓ or j", "Next row (from the search box: the first row)"),
    ("↑ or k", "Previous row"),
    ("Enter", "Open the focused user"),
    ("Esc", "Close the drawer or dialog"),
    ("x", "Select or unselect the focused row"),
    ("?", "Show these keys"),
];

/// Whether the key went to a place where typing means text.
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.has_attribute("contenteditable")
        })
}

/// The table's body rows, in order.
fn rows() -> Vec<web_sys::HtmlElement> {
    let Ok(list) =
        document().query_selector_all("table[aria-label='Users'] tbody tr[id^='user-row-']")
    else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// The user id of the focused row, if a row has focus.
fn focused_row() -> Option<(usize, i64)> {
    let active = document().active_element()?;
    let row = active.closest("tr[id^='user-row-']").ok()??;
    let id = row.id().strip_prefix("user-row-")?.parse().ok()?;
    let index = rows()
        .iter()
        .position(|r| r.unchecked_ref::<web_sys::Element>() == &row)?;
    Some((index, id))
}

/// Installs the page's keys while the users page is shown.
pub fn use_users_keys() {
    let ctx = use_users_ctx();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
            return;
        }
        // While a dialog is open, its own keys apply.
        if ctx.creating.get_untracked()
            || ctx.confirm.with_untracked(Option::is_some)
            || ctx.reset.with_untracked(Option::is_some)
        {
            return;
        }
        let drawer_open = document()
            .query_selector("[role='dialog']")
            .ok()
            .flatten()
            .is_some();
        if ev.key() == "Escape" && ctx.help.get_untracked() {
            ctx.help.set(false);
            return;
        }
        if drawer_open {
            return;
        }
        // ↓ from the search box goes to the first result.
        let in_search = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| el.id() == "user-search");
        if in_search && ev.key() == "ArrowDown" {
            if let Some(first) = rows().first() {
                ev.prevent_default();
                let _ = first.focus();
            }
            return;
        }
        if typing(&ev) {
            return;
        }
        match ev.key().as_str() {
            "/" => {
                ev.prevent_default();
                if let Some(search) = document()
                    .get_element_by_id("user-search")
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = search.focus();
                }
            }
            "?" => {
                ev.prevent_default();
                ctx.help.update(|h| *h = !*h);
            }
            key @ ("ArrowDown" | "j" | "ArrowUp" | "k") => {
                let rows = rows();
                if rows.is_empty() {
                    return;
                }
                ev.prevent_default();
                let down = matches!(key, "ArrowDown" | "j");
                let next = match (focused_row(), down) {
                    (Some((i, _)), true) => (i + 1).min(rows.len() - 1),
                    (Some((i, _)), false) => i.saturating_sub(1),
                    (None, true) => 0,
                    (None, false) => rows.len() - 1,
                };
                let _ = rows[next].focus();
            }
            "x" => {
                if let Some((_, id)) = focused_row() {
                    ev.prevent_default();
                    ctx.all_matching.set(false);
                    ctx.selected.update(|s| {
                        if !s.remove(&id) {
                            s.insert(id);
                        }
                    });
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

/// The `?` overlay listing the keys.
#[component]
pub fn KeyboardHelp() -> impl IntoView {
    let ctx = use_users_ctx();
    let close_btn = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if ctx.help.get() {
            request_animation_frame(move || {
                if let Some(b) = close_btn.get_untracked() {
                    let _ = b.focus();
                }
            });
        }
    });
    view! {
        <Show when=move || ctx.help.get()>
            <div class="modal-backdrop" on:click=move |_| ctx.help.set(false)></div>
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="keys-title"
                on:keydown=move |ev| if ev.key() == "Escape" || ev.key() == "?" { ev.prevent_default(); ev.stop_propagation(); ctx.help.set(false) }>
                <h2 id="keys-title">"Keyboard shortcuts"</h2>
                <table class="keys" aria-labelledby="keys-title">
                    <tbody>
                        {KEYS.into_iter().map(|(k, what)| view! {
                            <tr><th scope="row"><kbd>{k}</kbd></th><td>{what}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <div class="modal-actions">
                    <button type="button" node_ref=close_btn on:click=move |_| ctx.help.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
}
