//! The Profile fields page (`/fields`, permission `fields.manage`): define custom
//! fields, change their label, type, choices and flags, put them in order, archive
//! and restore them.

use leptos::prelude::*;

use crate::api::fields::{archive_field, create_field, list_fields, reorder_fields, update_field};
use crate::components::signed_in::{SignedIn, TopBar};
use crate::components::use_live;
use crate::domain::fields::{FieldDef, FieldForm, FieldKind};
use crate::domain::permissions::FIELDS_MANAGE;
use crate::domain::{AdminInfo, AppError};

#[component]
pub fn FieldsPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Fields me/> }/> }
}

#[component]
fn Fields(me: AdminInfo) -> impl IntoView {
    let can_manage = me.can(FIELDS_MANAGE);
    let live = use_live();
    let show_archived = RwSignal::new(false);
    let version = RwSignal::new(0u64);
    let fields = LocalResource::new(move || {
        version.track();
        list_fields(show_archived.get())
    });
    let (notice, set_notice) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let editing = RwSignal::new(None::<i64>);
    let refresh = move |message: String| {
        set_notice.set(message);
        set_error.set(None);
        version.update(|v| *v += 1);
    };
    let run = move |fut: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<String, AppError>>>,
    >| {
        leptos::task::spawn_local(async move {
            match fut.await {
                Ok(message) => refresh(message),
                Err(e) => set_error.set(Some(e.summary())),
            }
        });
    };
    let move_field = move |list: Vec<FieldDef>, index: usize, up: bool| {
        let mut ids: Vec<i64> = list.iter().map(|f| f.id).collect();
        let other = if up {
            index.checked_sub(1)
        } else {
            Some(index + 1).filter(|i| *i < ids.len())
        };
        if let Some(other) = other {
            ids.swap(index, other);
            let label = list[index].label.clone();
            run(Box::pin(async move {
                reorder_fields(ids).await.map(|_| format!("Moved {label}."))
            }));
        }
    };
    let archive = move |f: FieldDef| {
        let archived = !f.archived;
        run(Box::pin(async move {
            archive_field(f.id, archived).await.map(|f| {
                if archived {
                    format!("{} archived: hidden, its data kept.", f.label)
                } else {
                    format!("{} restored.", f.label)
                }
            })
        }));
    };
    view! {
        <div class="app">
            <TopBar me current="fields" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <div class="page-head"><h1>"Profile fields"</h1></div>
                <p class="muted">
                    "Your own fields on every user, such as a customer number, a plan or a birthday. "
                    "The key is the column header in import and export files and cannot change; archiving hides a field and keeps its data."
                </p>
                {can_manage.then(|| view! {
                    <section class="card" aria-labelledby="new-field-title">
                        <h2 id="new-field-title">"New field"</h2>
                        <FieldEditor field=None on_saved=Callback::new(move |f: FieldDef| refresh(format!("Field {} added.", f.label)))/>
                    </section>
                })}
                <p class="notice-line" role="status">{move || notice.get()}</p>
                <p class="field-error" role="alert">{move || error.get()}</p>
                <label class="check">
                    <input type="checkbox" prop:checked=move || show_archived.get()
                        on:change=move |ev| show_archived.set(event_target_checked(&ev))/>
                    "Show archived fields"
                </label>
                {move || {
                    if !live.get() {
                        return view! { <p role="status" aria-busy="true">"Loading fields…"</p> }.into_any();
                    }
                    match fields.get() {
                        None => view! { <p role="status" aria-busy="true">"Loading fields…"</p> }.into_any(),
                        Some(Err(e)) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => view! {
                            <div class="state empty"><p><strong>"No fields yet."</strong></p>
                            <p>"Add one above; it appears on every user."</p></div>
                        }.into_any(),
                        Some(Ok(list)) => {
                            let count = list.len();
                            view! {
                                <div class="table-scroll">
                                    <table aria-label="Profile fields">
                                        <thead><tr>
                                            <th scope="col">"Label"</th><th scope="col">"Key"</th><th scope="col">"Type"</th>
                                            <th scope="col">"Choices"</th><th scope="col">"Required"</th><th scope="col">"Searchable"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr></thead>
                                        <tbody>
                                            {list.clone().into_iter().enumerate().map(|(i, f)| {
                                                let (for_up, for_down, for_archive) = (list.clone(), list.clone(), f.clone());
                                                let id = f.id;
                                                let label = f.label.clone();
                                                view! {
                                                    <tr>
                                                        <th scope="row">{f.label.clone()}{f.archived.then_some(" (archived)")}</th>
                                                        <td><code>{f.key.clone()}</code></td>
                                                        <td>{f.kind.label()}</td>
                                                        <td class="wrap">{f.choices.join(", ")}</td>
                                                        <td>{if f.required { "Yes" } else { "No" }}</td>
                                                        <td>{if f.searchable { "Yes" } else { "No" }}</td>
                                                        <td class="row-actions">
                                                            {can_manage.then(|| view! {
                                                                <button type="button" class="ghost" aria-label=format!("Move {label} up")
                                                                    disabled=i == 0 on:click=move |_| move_field(for_up.clone(), i, true)>"↑"</button>
                                                                <button type="button" class="ghost" aria-label=format!("Move {label} down")
                                                                    disabled=i + 1 == count on:click=move |_| move_field(for_down.clone(), i, false)>"↓"</button>
                                                                <button type="button" class="ghost" aria-label=format!("Edit {label}")
                                                                    on:click=move |_| editing.set(Some(id))>"Edit"</button>
                                                                <button type="button" class="ghost" on:click=move |_| archive(for_archive.clone())>
                                                                    {if f.archived { "Restore" } else { "Archive" }}
                                                                </button>
                                                            })}
                                                        </td>
                                                    </tr>
                                                    {move || (editing.get() == Some(id)).then(|| {
                                                        let f = f.clone();
                                                        let name = format!("Edit {}", f.label);
                                                        view! {
                                                            <tr><td colspan="7">
                                                                <section class="card" aria-label=name>
                                                                    <FieldEditor field=Some(f) on_saved=Callback::new(move |f: FieldDef| {
                                                                        editing.set(None);
                                                                        refresh(format!("Field {} saved.", f.label));
                                                                    })/>
                                                                    <button type="button" class="ghost" on:click=move |_| editing.set(None)>"Cancel"</button>
                                                                </section>
                                                            </td></tr>
                                                        }
                                                    })}
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any()
                        }
                    }
                }}
            </main>
        </div>
    }
}

/// The form defining a new field (`field` none) or changing one (its key fixed).
#[component]
fn FieldEditor(field: Option<FieldDef>, on_saved: Callback<FieldDef>) -> impl IntoView {
    let id = field.as_ref().map(|f| f.id);
    let prefix = id.map_or("new-field".to_string(), |i| format!("field-{i}"));
    let key = RwSignal::new(field.as_ref().map(|f| f.key.clone()).unwrap_or_default());
    let label = RwSignal::new(field.as_ref().map(|f| f.label.clone()).unwrap_or_default());
    let kind = RwSignal::new(field.as_ref().map_or(FieldKind::Text, |f| f.kind));
    let choices = RwSignal::new(
        field
            .as_ref()
            .map(|f| f.choices.join("\n"))
            .unwrap_or_default(),
    );
    let required = RwSignal::new(field.as_ref().is_some_and(|f| f.required));
    let searchable = RwSignal::new(field.as_ref().is_none_or(|f| f.searchable));
    let errors = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        let form = FieldForm {
            key: key.get_untracked(),
            label: label.get_untracked(),
            kind: kind.get_untracked().as_str().to_string(),
            choices: choices.get_untracked(),
            required: required.get_untracked(),
            searchable: searchable.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            let result = match id {
                Some(id) => update_field(id, form).await,
                None => create_field(form).await,
            };
            pending.set(false);
            match result {
                Ok(f) => {
                    errors.set(None);
                    if id.is_none() {
                        key.set(String::new());
                        label.set(String::new());
                        choices.set(String::new());
                    }
                    on_saved.run(f);
                }
                Err(e) => errors.set(Some(e)),
            }
        });
    };
    let message = move |name: &'static str| {
        errors
            .read()
            .as_ref()
            .map(|e| e.field_messages(name).join(" "))
            .unwrap_or_default()
    };
    let other = move || match errors.get() {
        Some(
            e @ (AppError::Forbidden(_)
            | AppError::Internal(_)
            | AppError::Transport(_)
            | AppError::Conflict(_)
            | AppError::NotFound(_)),
        ) => e.to_string(),
        _ => String::new(),
    };
    let p = prefix.clone();
    view! {
        <form class="field-form" on:submit=submit>
            <div class="form-grid">
                <label for=format!("{p}-label")>"Label"</label>
                <div>
                    <input id=format!("{p}-label") type="text" prop:value=move || label.get()
                        on:input=move |ev| label.set(event_target_value(&ev))
                        aria-invalid=move || (!message("label").is_empty()).to_string()/>
                    <p class="field-error" role="alert">{move || message("label")}</p>
                </div>
                <label for=format!("{p}-key")>"Key"</label>
                <div>
                    <input id=format!("{p}-key") type="text" prop:value=move || key.get() readonly=id.is_some()
                        placeholder="customer_number"
                        on:input=move |ev| key.set(event_target_value(&ev))
                        aria-invalid=move || (!message("key").is_empty()).to_string()/>
                    <p class="field-error" role="alert">{move || message("key")}</p>
                </div>
                <label for=format!("{p}-kind")>"Type"</label>
                <div>
                    <select id=format!("{p}-kind") on:change=move |ev| {
                        if let Some(k) = FieldKind::parse(&event_target_value(&ev)) { kind.set(k) }
                    }>
                        {FieldKind::ALL.into_iter().map(|k| view! {
                            <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error" role="alert">{move || message("kind")}</p>
                </div>
                {move || kind.get().has_choices().then(|| {
                    let p = prefix.clone();
                    view! {
                        <label for=format!("{p}-choices")>"Choices (one per line)"</label>
                        <div>
                            <textarea id=format!("{p}-choices") rows="4" prop:value=move || choices.get()
                                on:input=move |ev| choices.set(event_target_value(&ev))
                                aria-invalid=move || (!message("choices").is_empty()).to_string()></textarea>
                            <p class="field-error" role="alert">{move || message("choices")}</p>
                        </div>
                    }
                })}
            </div>
            <label class="check"><input type="checkbox" prop:checked=move || required.get()
                on:change=move |ev| required.set(event_target_checked(&ev))/>"Required"</label>
            <label class="check"><input type="checkbox" prop:checked=move || searchable.get()
                on:change=move |ev| searchable.set(event_target_checked(&ev))/>"Searchable"</label>
            <p class="field-error" role="alert">{other}</p>
            <button type="submit" class="primary" disabled=move || pending.get()>
                {if id.is_some() { "Save field" } else { "Add field" }}
            </button>
        </form>
    }
}
