//! The Roles page: every role with its permissions and user count; custom roles made
//! by picking permissions, changed and removed here. A team member's role is their
//! access rights: the drawer's role picker lists these roles.

use leptos::prelude::*;

use crate::api::roles::{create_role, delete_role, list_role_details, update_role};
use crate::components::signed_in::{SignedIn, TopBar};
use crate::domain::permissions::{describe, RoleDetail, RoleForm, ALL, ROLES_MANAGE};
use crate::domain::{AdminInfo, AppError};

#[component]
pub fn RolesPage() -> impl IntoView {
    view! { <SignedIn permission=ROLES_MANAGE page=|me| view! { <Roles me/> }/> }
}

/// Which role the form edits: none (a new one) or this one.
type Editing = Option<RoleDetail>;

#[component]
fn Roles(me: AdminInfo) -> impl IntoView {
    let version = RwSignal::new(0u64);
    let roles = LocalResource::new(move || {
        version.track();
        list_role_details()
    });
    let live = crate::components::use_live();
    let (notice, set_notice) = signal(String::new());
    let (list_error, set_list_error) = signal(None::<String>);
    let editing = RwSignal::new(None::<RoleDetail>);
    let confirm = RwSignal::new(None::<RoleDetail>);
    let remove = Action::new(|role: &RoleDetail| {
        let role = role.clone();
        async move { delete_role(role.id).await.map(|_| role.name) }
    });
    Effect::new(move |_| {
        if let Some(result) = remove.value().get() {
            confirm.set(None);
            match result {
                Ok(name) => {
                    set_list_error.set(None);
                    set_notice.set(format!("Role {name} deleted."));
                    version.update(|v| *v += 1);
                }
                Err(e) => set_list_error.set(Some(e.summary())),
            }
        }
    });
    let on_saved = Callback::new(move |role: RoleDetail| {
        set_notice.set(format!("Role {} saved.", role.name));
        editing.set(None);
        version.update(|v| *v += 1);
    });
    view! {
        <div class="app">
            <TopBar me current="roles" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <div class="page-head"><h1>"Roles"</h1></div>
                <p class="muted">"A team member's role is their access rights. Built-in roles stay as they are; make a custom role by picking permissions. Changes apply to everyone with the role on their next click."</p>
                <p class="notice-line" role="status">{move || notice.get()}</p>
                <p class="form-error" role="alert">{move || list_error.get()}</p>
                {move || match live.get().then(|| roles.get()).flatten() {
                    None => view! { <p role="status">"Loading roles…"</p> }.into_any(),
                    Some(Err(e)) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                    Some(Ok(list)) => view! {
                        <div class="table-scroll" tabindex="0" role="region" aria-label="Roles, scrollable">
                            <table aria-label="Roles">
                                <thead><tr>
                                    <th scope="col">"Role"</th><th scope="col">"Permissions"</th>
                                    <th scope="col" class="num">"Users"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|role| {
                                        let (edit_role, delete_role_) = (role.clone(), role.clone());
                                        let name = role.name.clone();
                                        view! {
                                            <tr>
                                                <th scope="row">
                                                    {role.name.clone()}
                                                    {role.built_in.then(|| view! { " " <span class="badge">"built-in"</span> })}
                                                    <div class="muted small">{role.description.clone()}</div>
                                                </th>
                                                <td class="small wrap">{if role.permissions.is_empty() { "None (no admin access)".to_string() } else { role.permissions.join(", ") }}</td>
                                                <td class="num">{role.users}</td>
                                                <td class="nowrap">{(!role.built_in).then(|| view! {
                                                    <button type="button" class="small" aria-label=format!("Edit {name}")
                                                        on:click=move |_| editing.set(Some(edit_role.clone()))>"Edit"</button>
                                                    <button type="button" class="small danger" aria-label=format!("Delete {name}")
                                                        on:click=move |_| confirm.set(Some(delete_role_.clone()))>"Delete…"</button>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }}
                <Show when=move || confirm.read().is_some()>
                    {move || confirm.get().map(|role| {
                        let r = role.clone();
                        view! {
                            <div class="confirm-line" role="alertdialog" aria-label=format!("Delete role {}?", role.name)>
                                <span>{format!("Delete role {}?", role.name)}</span>
                                <button type="button" class="danger-solid" disabled=move || remove.pending().get()
                                    on:click=move |_| { remove.dispatch(r.clone()); }>"Delete"</button>
                                <button type="button" on:click=move |_| confirm.set(None)>"Cancel"</button>
                            </div>
                        }
                    })}
                </Show>
                {move || {
                    let current: Editing = editing.get();
                    view! { <RoleEditor editing=current on_saved on_cancel=Callback::new(move |_| editing.set(None))/> }
                }}
            </main>
        </div>
    }
}

/// The form for a new custom role, or for changing `editing`.
#[component]
fn RoleEditor(
    editing: Editing,
    on_saved: Callback<RoleDetail>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let id = editing.as_ref().map(|r| r.id);
    let title = match &editing {
        Some(r) => format!("Edit role {}", r.name),
        None => "New role".to_string(),
    };
    let start = editing
        .map(|r| RoleForm {
            name: r.name,
            description: r.description,
            permissions: r.permissions,
        })
        .unwrap_or_default();
    let form = RwSignal::new(start);
    let (error, set_error) = signal(None::<AppError>);
    let save = Action::new(move |f: &RoleForm| {
        let f = f.clone();
        async move {
            match id {
                Some(id) => update_role(id, f).await,
                None => create_role(f).await,
            }
        }
    });
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            match result {
                Ok(role) => {
                    set_error.set(None);
                    form.set(RoleForm::default());
                    on_saved.run(role);
                }
                Err(e) => set_error.set(Some(e)),
            }
        }
    });
    let field_error = move |f: &'static str| {
        move || {
            error
                .get()
                .map(|e| e.field_messages(f).join(" "))
                .filter(|m| !m.is_empty())
        }
    };
    let general = move || {
        error.get().and_then(|e| match e {
            AppError::Validation(_) => None,
            other => Some(other.to_string()),
        })
    };
    view! {
        <section class="role-editor" aria-labelledby="role-form-title">
            <h2 id="role-form-title">{title}</h2>
            <form on:submit=move |ev| { ev.prevent_default(); save.dispatch(form.get_untracked()); }>
                <div class="field">
                    <label for="role-name">"Name"</label>
                    <input id="role-name" type="text" autocomplete="off" maxlength="40"
                        prop:value=move || form.with(|f| f.name.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.name = v) }
                        aria-invalid=move || field_error("name")().is_some().to_string()
                        aria-describedby="role-name-hint role-name-error"/>
                    <span id="role-name-hint" class="hint">"Letters a–z, digits, - and _."</span>
                    <p id="role-name-error" class="field-error" role="alert">{field_error("name")}</p>
                </div>
                <div class="field">
                    <label for="role-description">"Description"</label>
                    <input id="role-description" type="text" autocomplete="off"
                        prop:value=move || form.with(|f| f.description.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.description = v) }
                        aria-describedby="role-description-error"/>
                    <p id="role-description-error" class="field-error" role="alert">{field_error("description")}</p>
                </div>
                <fieldset class="permissions">
                    <legend>"Permissions"</legend>
                    {ALL.iter().map(|p| {
                        let p = *p;
                        view! {
                            <label class="check">
                                <input type="checkbox"
                                    prop:checked=move || form.with(|f| f.permissions.iter().any(|q| q == p))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        form.update(|f| {
                                            f.permissions.retain(|q| q != p);
                                            if on { f.permissions.push(p.to_string()) }
                                        })
                                    }/>
                                <span><code>{p}</code>" — "{describe(p)}</span>
                            </label>
                        }
                    }).collect_view()}
                    <p class="field-error" role="alert">{field_error("permissions")}</p>
                </fieldset>
                <p class="form-error" role="alert">{general}</p>
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        {move || match (save.pending().get(), id.is_some()) {
                            (true, _) => "Saving…",
                            (false, true) => "Save role",
                            (false, false) => "Create role",
                        }}
                    </button>
                    {id.is_some().then(|| view! {
                        <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                    })}
                </div>
            </form>
        </section>
    }
}
