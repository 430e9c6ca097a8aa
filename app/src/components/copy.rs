//! A "Copy" button for a secret shown once (a temporary password, a new API key): it
//! writes the text to the clipboard and says whether that worked.

use leptos::prelude::*;

/// Copies `text`; `label` names what is copied for screen readers ("Copy the
/// temporary password").
#[component]
pub fn CopyButton(#[prop(into)] text: String, label: String) -> impl IntoView {
    let (said, set_said) = signal(None::<&'static str>);
    let text = StoredValue::new(text);
    let copy = move |_| {
        let text = text.get_value();
        leptos::task::spawn_local(async move {
            let copied = write_clipboard(&text).await;
            set_said.try_set(Some(if copied {
                "Copied."
            } else {
                "Could not copy: select the text and press Ctrl+C."
            }));
        });
    };
    view! {
        <button type="button" class="small" aria-label=label on:click=copy>"Copy"</button>
        <span class="muted small copy-said" role="status">{move || said.get()}</span>
    }
}

#[cfg(feature = "hydrate")]
async fn write_clipboard(text: &str) -> bool {
    let promise = window().navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

#[cfg(not(feature = "hydrate"))]
async fn write_clipboard(_text: &str) -> bool {
    false
}
