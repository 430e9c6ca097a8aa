//! A multi-select of names (tags, groups) with type-ahead: the chosen names as chips,
//! and a combobox that suggests existing names and offers "Create …" for a new one.
//! Keyboard: type, ↑/↓ to move, Enter to pick, Backspace in an empty box removes the
//! last chip, Esc closes the suggestions.

use leptos::prelude::*;

/// How many suggestions are listed at most.
const MAX_SUGGESTIONS: usize = 8;

#[component]
pub fn ChipPicker(
    /// "tag" or "group": used in labels ("Add tag", "Create tag “x”").
    kind: &'static str,
    /// Every existing name.
    #[prop(into)]
    options: Signal<Vec<String>>,
    /// The names chosen now.
    #[prop(into)]
    selected: Signal<Vec<String>>,
    /// Called with the new choice.
    on_change: Callback<Vec<String>>,
    /// A unique prefix for element ids.
    #[prop(into)]
    id: String,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let (open, set_open) = signal(false);
    let (active, set_active) = signal(0usize);
    let input = NodeRef::<leptos::html::Input>::new();

    // (label, name to add)
    let suggestions = Memo::new(move |_| {
        let typed = text.get();
        let typed = typed.trim();
        let lower = typed.to_lowercase();
        let chosen = selected.get();
        let is_chosen = |n: &str| chosen.iter().any(|c| c.eq_ignore_ascii_case(n));
        let mut list: Vec<(String, String)> = options
            .get()
            .into_iter()
            .filter(|o| !is_chosen(o) && o.to_lowercase().contains(&lower))
            .take(MAX_SUGGESTIONS)
            .map(|o| (o.clone(), o))
            .collect();
        let exists = options.get().iter().any(|o| o.eq_ignore_ascii_case(typed));
        if !typed.is_empty() && !exists && !is_chosen(typed) {
            list.push((format!("Create {kind} “{typed}”"), typed.to_string()));
        }
        list
    });
    let pick = move |name: String| {
        let mut next = selected.get_untracked();
        if !next.iter().any(|c| c.eq_ignore_ascii_case(&name)) {
            next.push(name);
            on_change.run(next);
        }
        set_text.set(String::new());
        set_active.set(0);
        set_open.set(false);
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    let remove = move |name: String| {
        let next: Vec<String> = selected
            .get_untracked()
            .into_iter()
            .filter(|c| *c != name)
            .collect();
        on_change.run(next);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = suggestions.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                set_open.set(true);
                if n > 0 {
                    set_active.update(|a| *a = (*a + 1) % n);
                }
            }
            "ArrowUp" => {
                ev.prevent_default();
                if n > 0 {
                    set_active.update(|a| *a = (*a + n - 1) % n);
                }
            }
            "Enter" => {
                ev.prevent_default();
                let chosen = suggestions.with_untracked(|s| s.get(active.get_untracked()).cloned());
                if let Some((_, name)) = chosen {
                    pick(name);
                }
            }
            "Escape" if open.get_untracked() && n > 0 => {
                ev.stop_propagation();
                set_text.set(String::new());
                set_open.set(false);
            }
            "Backspace" if text.get_untracked().is_empty() => {
                if let Some(last) = selected.get_untracked().last().cloned() {
                    remove(last);
                }
            }
            _ => {}
        }
    };
    let list_id = format!("{id}-options");
    let id = StoredValue::new(id);
    let option_id = move |i: usize| format!("{}-option-{i}", id.get_value());
    let show_list = move || open.get() && !suggestions.read().is_empty();

    view! {
        <div class="chip-picker" on:focusout=move |ev| super::close_when_focus_leaves(&ev, set_open)>
            <ul class="chips" aria-label=format!("{}s", capitalise(kind))>
                {move || {
                    let chosen = selected.get();
                    if chosen.is_empty() {
                        view! { <li class="muted">{format!("No {kind}s.")}</li> }.into_any()
                    } else {
                        chosen.into_iter().map(|name| {
                            let n = name.clone();
                            view! {
                                <li class="chip">{name.clone()}
                                    <button type="button" aria-label=format!("Remove {kind} {name}")
                                        disabled=move || disabled.get()
                                        on:click=move |_| remove(n.clone())>"×"</button>
                                </li>
                            }
                        }).collect_view().into_any()
                    }
                }}
            </ul>
            <div class="combo">
                <input node_ref=input type="text" role="combobox" autocomplete="off"
                    aria-label=format!("Add {kind}") placeholder=format!("Add {kind}…")
                    aria-autocomplete="list" aria-controls=list_id.clone()
                    aria-expanded=move || show_list().to_string()
                    aria-activedescendant=move || show_list().then(|| option_id(active.get()))
                    disabled=move || disabled.get()
                    prop:value=move || text.get()
                    on:input=move |ev| { set_text.set(event_target_value(&ev)); set_active.set(0); set_open.set(true); }
                    on:click=move |_| set_open.set(true)
                    on:keydown=on_key/>
                <Show when=show_list>
                    <ul id=list_id.clone() class="popover listbox" role="listbox" aria-label=format!("{} suggestions", capitalise(kind))>
                        {move || suggestions.get().into_iter().enumerate().map(|(i, (label, name))| view! {
                            <li id=option_id(i) role="option" class="option"
                                aria-selected=move || (active.get() == i).to_string()
                                on:mousedown=|ev| ev.prevent_default()
                                on:click=move |ev| { ev.stop_propagation(); pick(name.clone()); }>
                                {label}
                            </li>
                        }).collect_view()}
                    </ul>
                </Show>
            </div>
        </div>
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
