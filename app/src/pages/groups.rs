//! The groups page: every group with its member count; create, rename, delete.

use leptos::prelude::*;

use crate::api::lifecycle::{create_group, delete_group, list_groups, rename_group};
use crate::components::format;
use crate::components::signed_in::{SignedIn, TopBar};
use crate::domain::permissions::USERS_WRITE;
use crate::domain::{AdminInfo, GroupInfo};

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Groups me/> }/> }
}

#[component]
fn Groups(me: AdminInfo) -> impl IntoView {
    let can_write = me.can(USERS_WRITE);
    let version = RwSignal::new(0u64);
    let groups = Resource::new(move || version.get(), |_| list_groups());
    let (name, set_name) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let (notice, set_notice) = signal(String::new());
    let create = Action::new(|n: &String| create_group(n.clone()));
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            match result {
                Ok(g) => {
                    set_name.set(String::new());
                    set_error.set(None);
                    set_notice.set(format!("Group {} created.", g.name));
                    version.update(|v| *v += 1);
                }
                Err(e) => set_error.set(Some(e.summary())),
            }
        }
    });
    view! {
        <div class="app">
            <TopBar me current="groups" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <div class="page-head"><h1>"Groups"</h1></div>
                {can_write.then(|| view! {
                    <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); create.dispatch(name.get_untracked()); }>
                        <label for="new-group">"New group"</label>
                        <input id="new-group" type="text" autocomplete="off" prop:value=move || name.get()
                            on:input=move |ev| set_name.set(event_target_value(&ev))
                            aria-invalid=move || error.read().is_some().to_string() aria-describedby="new-group-error"/>
                        <button type="submit" class="primary" disabled=move || create.pending().get()>"Create group"</button>
                        <p id="new-group-error" class="field-error" role="alert">{move || error.get()}</p>
                    </form>
                })}
                <p class="notice-line" role="status">{move || notice.get()}</p>
                <Transition fallback=|| view! { <p role="status">"Loading groups…"</p> }>
                    {move || Suspend::new(async move {
                        match groups.await {
                            Err(e) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <div class="state empty"><p><strong>"No groups yet."</strong></p>
                                <p>"Create one here, or by typing a new name in a user's Groups field."</p></div>
                            }.into_any(),
                            Ok(list) => view! {
                                <div class="table-scroll">
                                    <table aria-label="Groups">
                                        <thead><tr><th scope="col">"Name"</th><th scope="col" class="num">"Members"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|g| view! { <GroupRow group=g version can_write set_notice/> }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </main>
        </div>
    }
}

#[component]
fn GroupRow(
    group: GroupInfo,
    version: RwSignal<u64>,
    can_write: bool,
    set_notice: WriteSignal<String>,
) -> impl IntoView {
    let id = group.id;
    let (editing, set_editing) = signal(false);
    let (confirming, set_confirming) = signal(false);
    let (name, set_name) = signal(group.name.clone());
    let (error, set_error) = signal(None::<String>);
    let rename = Action::new(move |n: &String| rename_group(id, n.clone()));
    let delete = Action::new(move |_: &()| delete_group(id));
    let old_name = group.name.clone();
    Effect::new(move |_| {
        if let Some(result) = rename.value().get() {
            match result {
                Ok(()) => {
                    set_editing.set(false);
                    set_notice.set(format!("Group renamed to {}.", name.get_untracked()));
                    version.update(|v| *v += 1);
                }
                Err(e) => set_error.set(Some(e.summary())),
            }
        }
    });
    let deleted_name = group.name.clone();
    Effect::new(move |_| {
        if let Some(result) = delete.value().get() {
            match result {
                Ok(()) => {
                    set_notice.set(format!("Group {deleted_name} deleted."));
                    version.update(|v| *v += 1);
                }
                Err(e) => set_error.set(Some(e.summary())),
            }
        }
    });
    let label = group.name.clone();
    view! {
        <tr>
            <td>
                <Show when=move || editing.get() fallback={ let n = group.name.clone(); move || n.clone() }>
                    <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); rename.dispatch(name.get_untracked()); }>
                        <input type="text" aria-label=format!("New name for {}", old_name) prop:value=move || name.get()
                            on:input=move |ev| set_name.set(event_target_value(&ev))
                            on:keydown=move |ev| if ev.key() == "Escape" { set_editing.set(false) }/>
                        <button type="submit" class="primary small">"Save"</button>
                        <button type="button" class="small" on:click=move |_| set_editing.set(false)>"Cancel"</button>
                    </form>
                </Show>
                <p class="field-error" role="alert">{move || error.get()}</p>
            </td>
            <td class="num">{format::count(group.members.max(0) as u64)}</td>
            <td class="row-actions">
                {can_write.then(|| view! {
                    <Show when=move || !confirming.get() fallback={
                        let label = label.clone();
                        move || view! {
                            <span>{format!("Delete {label}? Members leave the group.")}</span>
                            <button type="button" class="danger small" on:click=move |_| { delete.dispatch(()); }>"Delete"</button>
                            <button type="button" class="small" on:click=move |_| set_confirming.set(false)>"Keep"</button>
                        }
                    }>
                        <button type="button" class="ghost small" aria-label=format!("Rename {}", group.name) on:click=move |_| set_editing.set(true)>"Rename"</button>
                        <button type="button" class="ghost small" aria-label=format!("Delete {}", group.name) on:click=move |_| set_confirming.set(true)>"Delete"</button>
                    </Show>
                })}
            </td>
        </tr>
    }
}
