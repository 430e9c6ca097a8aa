//! Show or hide table columns, built-in ones and custom profile fields; the choice
//! goes into the URL and is saved for the admin.

use leptos::prelude::*;

use super::{use_go, use_user_query};
use crate::api::users::{save_field_columns, save_hidden_columns};
use crate::components::{FieldColumns, FieldDefs, HiddenColumns};
use crate::domain::columns::normalize_hidden;
use crate::domain::{Column, UserQuery};

#[component]
pub fn ColumnChooser() -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let HiddenColumns(hidden) = expect_context::<HiddenColumns>();
    let (open, set_open) = signal(false);
    let save = Action::new(|cols: &Vec<Column>| save_hidden_columns(cols.clone()));
    let FieldDefs(defs) = expect_context::<FieldDefs>();
    let FieldColumns(shown_fields) = expect_context::<FieldColumns>();
    let save_fields = Action::new(|keys: &Vec<String>| save_field_columns(keys.clone()));
    let save_error = move || match (save.value().get(), save_fields.value().get()) {
        (Some(Err(e)), _) | (_, Some(Err(e))) => {
            Some(format!("Could not save your column choice: {e}"))
        }
        _ => None,
    };
    // Field columns keep the fields' defined order.
    let toggle_field = move |key: String| {
        let mut keys: Vec<String> = shown_fields
            .get_untracked()
            .into_iter()
            .map(|d| d.key)
            .collect();
        if let Some(pos) = keys.iter().position(|k| *k == key) {
            keys.remove(pos);
        } else {
            keys.push(key);
        }
        let order = defs.get_untracked();
        keys.sort_by_key(|k| order.iter().position(|d| &d.key == k));
        save_fields.dispatch(keys.clone());
        go.to(
            UserQuery {
                field_columns: Some(keys),
                ..query.get_untracked()
            },
            true,
        );
    };

    let toggle = move |column: Column| {
        let mut cols = hidden.get_untracked();
        if let Some(pos) = cols.iter().position(|c| *c == column) {
            cols.remove(pos);
        } else {
            cols.push(column);
        }
        let cols = normalize_hidden(cols);
        save.dispatch(cols.clone());
        go.to(
            UserQuery {
                hidden: Some(cols),
                ..query.get_untracked()
            },
            true,
        );
    };

    view! {
        <div class="popover-anchor column-chooser" on:focusout=move |ev| super::close_when_focus_leaves(&ev, set_open)>
            <button type="button" class="ghost" aria-expanded=move || open.get().to_string()
                aria-controls="column-options" on:click=move |_| set_open.update(|o| *o = !*o)>
                "Columns"
            </button>
            <Show when=move || open.get()>
                <div id="column-options" class="popover right" role="group" aria-label="Visible columns"
                    on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); set_open.set(false) }>
                    {Column::ALL.into_iter().map(|c| view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=move || !hidden.get().contains(&c)
                                on:change=move |_| toggle(c)/>
                            {c.label()}
                        </label>
                    }).collect_view()}
                    <Show when=move || !defs.read().is_empty()>
                        <p class="popover-heading" id="field-columns-heading">"Profile fields"</p>
                        <div role="group" aria-labelledby="field-columns-heading">
                            {move || defs.get().into_iter().map(|d| {
                                let key = d.key.clone();
                                let shown = {
                                    let key = key.clone();
                                    move || shown_fields.read().iter().any(|f| f.key == key)
                                };
                                view! {
                                    <label class="check">
                                        <input type="checkbox" prop:checked=shown
                                            on:change=move |_| toggle_field(key.clone())/>
                                        {d.label.clone()}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    </Show>
                </div>
            </Show>
            <p class="field-error" role="alert">{save_error}</p>
        </div>
    }
}
