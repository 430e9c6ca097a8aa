//! An audit entry's change in words ("Status: active → banned"), one line per field,
//! with the raw data behind a disclosure: for the audit log and the timeline.

use leptos::prelude::*;

use crate::domain::audit::{ChangeLine, MAX_CHANGE_LINES};

#[component]
pub fn Changes(lines: Vec<ChangeLine>, raw: String) -> impl IntoView {
    let more = lines.len().saturating_sub(MAX_CHANGE_LINES);
    let shown: Vec<ChangeLine> = lines.into_iter().take(MAX_CHANGE_LINES).collect();
    let empty = shown.is_empty();
    view! {
        {(!empty).then(|| view! {
            <ul class="changes">
                {shown.into_iter().map(|l| {
                    let field = (!l.field.is_empty()).then(|| view! { <span class="change-field">{l.field}": "</span> });
                    let value = match (l.before, l.after) {
                        (Some(b), Some(a)) => view! { <span class="change-before">{b}</span>" → "<span class="change-after">{a}</span> }.into_any(),
                        (None, Some(a)) => view! { <span class="change-after">{a}</span> }.into_any(),
                        (Some(b), None) => view! { <span class="change-before">{b}</span>" → (removed)" }.into_any(),
                        (None, None) => ().into_any(),
                    };
                    view! { <li>{field}{value}</li> }
                }).collect_view()}
                {(more > 0).then(|| view! { <li class="muted">{format!("…and {more} more in the raw data")}</li> })}
            </ul>
        })}
        {(!raw.is_empty()).then(|| view! {
            <details class="raw"><summary>"Raw data"</summary><pre>{raw}</pre></details>
        })}
    }
}
