//! Commands in a table row: the status menu, the tags popover, the "⋯" menu, and the
//! delete confirmation (shared with the drawer and the bulk bar).

use leptos::prelude::*;

use super::account_actions::{invite, log_out_everywhere, ResetTarget};
use super::chip_picker::ChipPicker;
use super::notices::{push, Notice, Undo};
use super::{use_go, use_user_query, use_users_ctx};
use crate::api::lifecycle::{bulk_users, delete_user, set_user_status, set_user_tags};
use crate::api::users::{get_user, list_tags};
use crate::domain::permissions::{USERS_DELETE, USERS_PASSWORDS, USERS_SESSIONS, USERS_WRITE};
use crate::domain::{BulkAction, BulkResult, Selection, Status};

/// A command that asks first: a delete, or a status change of several users.
#[derive(Clone, Debug, PartialEq)]
pub enum Confirm {
    DeleteOne {
        id: i64,
        name: String,
    },
    /// A delete or a status change (`action`) of the bulk bar's selection.
    Many {
        selection: Selection,
        count: u64,
        action: BulkAction,
    },
}

impl Confirm {
    fn action(&self) -> BulkAction {
        match self {
            Confirm::DeleteOne { .. } => BulkAction::Delete,
            Confirm::Many { action, .. } => action.clone(),
        }
    }

    fn title(&self) -> String {
        let whom = match self {
            Confirm::DeleteOne { name, .. } => name.clone(),
            Confirm::Many { count: 1, .. } => "1 user".to_string(),
            Confirm::Many { count, .. } => format!("{} users", super::format::count(*count)),
        };
        format!("{} {whom}?", self.verb())
    }

    fn verb(&self) -> &'static str {
        match self.action() {
            BulkAction::SetStatus(Status::Banned) => "Ban",
            BulkAction::SetStatus(Status::Active) => "Activate",
            BulkAction::SetStatus(Status::Invited) => "Mark as invited",
            _ => "Delete",
        }
    }

    fn pending(&self) -> &'static str {
        match self.action() {
            BulkAction::SetStatus(Status::Banned) => "Banning…",
            BulkAction::SetStatus(_) => "Changing…",
            _ => "Deleting…",
        }
    }

    fn body(&self) -> &'static str {
        match self.action() {
            BulkAction::SetStatus(Status::Banned) => {
                "They cannot sign in, and their sessions end at once. You can undo this for a few seconds; users changed in the meantime keep their newer state."
            }
            BulkAction::SetStatus(Status::Active) => {
                "They can sign in again. You can undo this for a few seconds; users changed in the meantime keep their newer state."
            }
            BulkAction::SetStatus(_) => {
                "They are listed as invited until they accept an invitation. You can undo this for a few seconds; users changed in the meantime keep their newer state."
            }
            _ => {
                "Their sessions end at once. You can undo this for a few seconds; after that the users, their tags, groups, devices, comments and activity are removed for good. The audit log keeps a record."
            }
        }
    }
}

/// The status of one user as a menu: Active / Banned (Invited while invited).
#[component]
pub fn StatusCell(id: i64, name: String, status: Status) -> impl IntoView {
    let ctx = use_users_ctx();
    // The row is drawn again once the table refreshes, so the outcome is reported
    // from the action itself, not from an effect of this (soon gone) cell.
    let who = name.clone();
    let set = Action::new(move |s: &Status| {
        let (s, who) = (*s, who.clone());
        async move {
            match set_user_status(id, s).await {
                Ok(change) => push(
                    ctx.notices,
                    Notice::undoable(
                        format!("{who} is now {}.", s.label().to_lowercase()),
                        Undo::Status(change),
                    ),
                ),
                Err(e) => ctx.alert(format!("Could not change the status of {who}: {e}")),
            }
            ctx.changed();
        }
    });
    if !ctx.can(USERS_WRITE) {
        return view! { <span class=format!("badge status-{}", status.as_str())>{status.label()}</span> }
            .into_any();
    }
    let choices: Vec<Status> = if status == Status::Invited {
        Status::ALL.to_vec()
    } else {
        vec![Status::Active, Status::Banned]
    };
    view! {
        <select class=format!("status-select status-{}", status.as_str()) aria-label=format!("Status of {name}")
            on:click=|ev| ev.stop_propagation()
            on:keydown=|ev| ev.stop_propagation()
            on:change=move |ev| {
                if let Some(s) = Status::parse(&event_target_value(&ev)) {
                    set.dispatch(s);
                }
            }>
            {choices.into_iter().map(|s| view! {
                <option value=s.as_str() selected=s == status>{s.label()}</option>
            }).collect_view()}
        </select>
    }
    .into_any()
}

/// The tag count, opening a popover to add and remove the user's tags.
#[component]
pub fn TagsCell(id: i64, name: String, count: i64) -> impl IntoView {
    let ctx = use_users_ctx();
    let (open, set_open) = signal(false);
    let popover_id = format!("tags-of-{id}");
    view! {
        <div class="popover-anchor inline" on:click=|ev| ev.stop_propagation()
            on:keydown=|ev| ev.stop_propagation()
            on:focusout=move |ev| super::close_when_focus_leaves(&ev, set_open)>
            <button type="button" class="ghost count" aria-label=format!("Tags of {name}: {count}")
                style=format!("anchor-name: --tags-of-{id}")
                aria-expanded=move || open.get().to_string() aria-controls=popover_id.clone()
                disabled=!ctx.can(USERS_WRITE) && count == 0
                on:click=move |_| set_open.update(|o| *o = !*o)>
                {count}
            </button>
            <Show when=move || open.get()>
                <div id=format!("tags-of-{id}") class="popover right wide" role="group" aria-label=format!("Tags of {name}")
                    style=format!("position-anchor: --tags-of-{id}")
                    on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); set_open.set(false) }>
                    <UserTagsEditor id/>
                </div>
            </Show>
        </div>
    }
}

/// Loads a user's tags and edits them with a [`ChipPicker`]; each change saves.
#[component]
pub fn UserTagsEditor(id: i64) -> impl IntoView {
    let ctx = use_users_ctx();
    let all = Resource::new(move || ctx.revision.get(), |_| list_tags());
    let current = Resource::new(move || ctx.revision.get(), move |_| get_user(id));
    let (chosen, set_chosen) = signal(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(user)) = current.get() {
            set_chosen.set(user.tags.into_iter().map(|t| t.name).collect());
        }
    });
    let save = Action::new(move |names: &Vec<String>| {
        let names = names.clone();
        async move {
            match set_user_tags(id, names).await {
                Ok(tags) => {
                    set_chosen.try_set(tags.into_iter().map(|t| t.name).collect());
                    ctx.changed();
                }
                Err(e) => ctx.alert(format!("The tags were not saved: {e}")),
            }
        }
    });
    let options = Signal::derive(move || {
        all.get()
            .and_then(Result::ok)
            .map(|l| l.into_iter().map(|t| t.name).collect())
            .unwrap_or_default()
    });
    view! {
        <ChipPicker kind="tag" id="row-tags" options selected=chosen
            disabled=Signal::derive(move || !ctx.can(USERS_WRITE) || save.pending().get())
            on_change=Callback::new(move |names: Vec<String>| {
                set_chosen.set(names.clone());
                save.dispatch(names);
            })/>
        <p class="muted small" role="status">{move || if save.pending().get() { "Saving…" } else { "" }}</p>
    }
}

/// The row's "⋯" menu: open the user; reset the password, send an invitation (while
/// invited), log out everywhere; delete.
#[component]
pub fn RowMenu(id: i64, name: String, status: Status) -> impl IntoView {
    let ctx = use_users_ctx();
    let query = use_user_query();
    let go = use_go();
    let (open, set_open) = signal(false);
    let menu_id = format!("row-menu-{id}");
    let open_user = move || {
        let qs = query.get_untracked().to_query_string();
        go.path(
            &if qs.is_empty() {
                format!("/users/{id}")
            } else {
                format!("/users/{id}?{qs}")
            },
            false,
        );
    };
    let label = format!("Actions for {name}");
    view! {
        <div class="popover-anchor inline" on:click=|ev| ev.stop_propagation()
            on:keydown=move |ev| { ev.stop_propagation(); if ev.key() == "Escape" { set_open.set(false) } }
            on:focusout=move |ev| super::close_when_focus_leaves(&ev, set_open)>
            <button type="button" class="ghost icon" aria-label=label.clone() aria-haspopup="menu"
                style=format!("anchor-name: --row-menu-{id}")
                aria-expanded=move || open.get().to_string() aria-controls=menu_id.clone()
                on:click=move |_| set_open.update(|o| *o = !*o)>"⋯"</button>
            <Show when=move || open.get()>
                <div id=format!("row-menu-{id}") class="popover right menu" role="menu" aria-label=label.clone()
                    style=format!("position-anchor: --row-menu-{id}")>
                    <button type="button" role="menuitem" on:click=move |_| { set_open.set(false); open_user() }>"Open"</button>
                    {ctx.can(USERS_PASSWORDS).then(|| {
                        let (reset_name, invite_name) = (name.clone(), name.clone());
                        view! {
                            <button type="button" role="menuitem" on:click=move |_| {
                                set_open.set(false);
                                ctx.reset.set(Some(ResetTarget { id, name: reset_name.clone(), reload: None }));
                            }>"Reset password…"</button>
                            {(status == Status::Invited).then(|| view! {
                                <button type="button" role="menuitem" on:click=move |_| {
                                    set_open.set(false);
                                    let name = invite_name.clone();
                                    leptos::task::spawn_local(async move { invite(ctx, id, name).await; });
                                }>"Send invitation"</button>
                            })}
                        }
                    })}
                    {ctx.can(USERS_SESSIONS).then(|| {
                        let name = name.clone();
                        view! {
                            <button type="button" role="menuitem" on:click=move |_| {
                                set_open.set(false);
                                let name = name.clone();
                                leptos::task::spawn_local(async move { log_out_everywhere(ctx, id, name).await; });
                            }>"Log out everywhere"</button>
                        }
                    })}
                    {ctx.can(USERS_DELETE).then(|| {
                        let name = name.clone();
                        view! {
                            <button type="button" role="menuitem" class="danger" on:click=move |_| {
                                set_open.set(false);
                                ctx.confirm.set(Some(Confirm::DeleteOne { id, name: name.clone() }));
                            }>"Delete…"</button>
                        }
                    })}
                </div>
            </Show>
        </div>
    }
}

/// The confirmation before a delete (or a status change of several users), then the
/// command itself and its notice with Undo.
#[component]
pub fn ConfirmCommand() -> impl IntoView {
    let ctx = use_users_ctx();
    let query = use_user_query();
    let go = use_go();
    let location = leptos_router::hooks::use_location();
    let run = Action::new(|target: &Confirm| {
        let target = target.clone();
        async move {
            match &target {
                Confirm::DeleteOne { id, .. } => delete_user(*id).await.map(|d| {
                    let one = BulkResult {
                        affected: 1,
                        deletion_id: Some(d),
                        skipped_self: false,
                        status_change_id: None,
                        job: None,
                    };
                    (target, one)
                }),
                Confirm::Many {
                    selection, action, ..
                } => bulk_users(selection.clone(), action.clone())
                    .await
                    .map(|r| (target, r)),
            }
        }
    });
    let (error, set_error) = signal(None::<String>);
    Effect::new(move |_| {
        if let Some(result) = run.value().get() {
            match result {
                Ok((target, result)) => {
                    ctx.confirm.set(None);
                    ctx.selected.set(Default::default());
                    ctx.all_matching.set(false);
                    match &target {
                        Confirm::DeleteOne { id, name } => {
                            let deletion = result.deletion_id.unwrap_or_default();
                            push(
                                ctx.notices,
                                Notice::undoable(
                                    format!("{name} was deleted."),
                                    Undo::Delete(deletion),
                                ),
                            );
                            ctx.changed();
                            // A deleted user's drawer has nothing left to show.
                            let path = location.pathname.get_untracked();
                            if path.trim_end_matches('/') == format!("/users/{id}") {
                                go.to(query.get_untracked(), false);
                            }
                        }
                        Confirm::Many { count, action, .. } => {
                            super::bulk_jobs::report(ctx, action.clone(), *count, result)
                        }
                    }
                }
                Err(e) => set_error.set(Some(e.to_string())),
            }
        }
    });
    let cancel_btn = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if ctx.confirm.get().is_some() {
            set_error.set(None);
            request_animation_frame(move || {
                if let Some(b) = cancel_btn.get_untracked() {
                    let _ = b.focus();
                }
            });
        }
    });
    view! {
        <Show when=move || ctx.confirm.read().is_some()>
            <div class="modal-backdrop" on:click=move |_| ctx.confirm.set(None)></div>
            <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-body"
                on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); ctx.confirm.set(None) }>
                <h2 id="confirm-title">{move || ctx.confirm.get().map(|t| t.title()).unwrap_or_default()}</h2>
                <p id="confirm-body">{move || ctx.confirm.get().map(|t| t.body()).unwrap_or_default()}</p>
                <p class="form-error" role="alert">{move || error.get()}</p>
                <div class="modal-actions">
                    <button type="button" node_ref=cancel_btn on:click=move |_| ctx.confirm.set(None)>"Cancel"</button>
                    <button type="button" class="danger-solid" disabled=move || run.pending().get()
                        on:click=move |_| if let Some(t) = ctx.confirm.get_untracked() { run.dispatch(t); }>
                        {move || {
                            let target = ctx.confirm.get();
                            match (run.pending().get(), target) {
                                (true, Some(t)) => t.pending(),
                                (false, Some(t)) => t.verb(),
                                (_, None) => "",
                            }
                        }}
                    </button>
                </div>
            </div>
        </Show>
    }
}
