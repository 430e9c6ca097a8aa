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
    let suggestions =
        Memo::new(move |_| suggest(kind, &options.get(), &selected.get(), &text.get()));
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

/// What the list offers for `typed`: existing names not chosen yet, closest first
/// (starting with it, a word starting with it, holding it, then a near miss such as a
/// typo), at most [`MAX_SUGGESTIONS`]; then, last and never in their place, "Create …"
/// for a name that does not exist. Each as (label, name to add).
fn suggest(
    kind: &str,
    options: &[String],
    chosen: &[String],
    typed: &str,
) -> Vec<(String, String)> {
    let typed = typed.trim();
    let lower = typed.to_lowercase();
    let is_chosen = |n: &str| chosen.iter().any(|c| c.eq_ignore_ascii_case(n));
    let mut ranked: Vec<(u8, String, &String)> = options
        .iter()
        .filter(|o| !is_chosen(o))
        .filter_map(|o| closeness(&lower, &o.to_lowercase()).map(|r| (r, o.to_lowercase(), o)))
        .collect();
    ranked.sort();
    let mut list: Vec<(String, String)> = ranked
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, o)| (o.clone(), o.clone()))
        .collect();
    let exists = options.iter().any(|o| o.eq_ignore_ascii_case(typed));
    if !typed.is_empty() && !exists && !is_chosen(typed) {
        list.push((format!("Create {kind} “{typed}”"), typed.to_string()));
    }
    list
}

/// How close `option` is to `typed` (both lowercase), best 0; `None`: not offered.
fn closeness(typed: &str, option: &str) -> Option<u8> {
    if typed.is_empty() || option == typed {
        return Some(0);
    }
    if option.starts_with(typed) {
        return Some(1);
    }
    if option
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| word.starts_with(typed))
    {
        return Some(2);
    }
    if option.contains(typed) {
        return Some(3);
    }
    // A near miss: a typo or two in what was typed, against the whole name or its start.
    let typed_len = typed.chars().count();
    if typed_len < 3 {
        return None;
    }
    let allowed = if typed_len < 8 { 1 } else { 2 };
    let near = (typed_len - 1..=typed_len + 1).any(|n| {
        let start: String = option.chars().take(n).collect();
        edit_distance(typed, &start) <= allowed
    });
    near.then_some(4)
}

/// Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn close_matches_come_first_and_creating_comes_last() {
        let groups = names(&[
            "Beta testers",
            "Staff",
            "Support team",
            "Superusers",
            "Sales",
        ]);
        let offered = suggest("group", &groups, &[], "Sup");
        let labels: Vec<&str> = offered.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["Superusers", "Support team", "Create group “Sup”"]);
        // A typo still finds the group it meant, before offering a new one.
        let offered = suggest("group", &groups, &[], "Suport");
        assert_eq!(offered[0].1, "Support team");
        assert_eq!(
            offered.last().map(|(l, _)| l.as_str()),
            Some("Create group “Suport”")
        );
        // A word inside the name counts, ahead of a mere substring.
        let offered = suggest("group", &groups, &[], "test");
        assert_eq!(offered[0].1, "Beta testers");
        // Names already chosen, and an exact name, offer no "Create".
        let offered = suggest("group", &groups, &names(&["Staff"]), "staff");
        assert!(offered.is_empty(), "{offered:?}");
        let offered = suggest("group", &groups, &[], "sales");
        assert_eq!(offered, vec![("Sales".to_string(), "Sales".to_string())]);
        // Nothing close: only the deliberate "Create".
        let offered = suggest("tag", &groups, &[], "zebra");
        assert_eq!(
            offered,
            vec![("Create tag “zebra”".to_string(), "zebra".to_string())]
        );
    }

    #[test]
    fn the_edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("suport", "support"), 1);
        assert_eq!(edit_distance("staf", "staff"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
