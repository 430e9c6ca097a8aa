//! The users page: header, filters, the table with paging, and the drawer outlet.

use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

use crate::api::fields::list_fields;
use crate::api::users::{get_field_columns, get_hidden_columns};
use crate::components::account_actions::ResetPasswordDialog;
use crate::components::column_chooser::ColumnChooser;
use crate::components::export_menu::ExportMenu;
use crate::components::keyboard::{use_users_keys, KeyboardHelp};
use crate::components::new_user::NewUserDialog;
use crate::components::notices::Notices;
use crate::components::row_menu::ConfirmCommand;
use crate::components::signed_in::{SignedIn, TopBar};
use crate::components::user_filters::UserFilters;
use crate::components::users_table::UsersTable;
use crate::components::{use_user_query, FieldColumns, FieldDefs, HiddenColumns, UsersCtx};
use crate::domain::permissions::{USERS_EXPORT, USERS_WRITE};
use crate::domain::AdminInfo;

#[component]
pub fn UsersPage() -> impl IntoView {
    let location = use_location();

    let query = use_user_query();
    let saved_hidden = Resource::new(|| (), |_| get_hidden_columns());
    let hidden = Signal::derive(move || match query.read().hidden.clone() {
        Some(h) => h,
        None => saved_hidden.get().and_then(Result::ok).unwrap_or_default(),
    });
    provide_context(HiddenColumns(hidden));
    // Custom fields are read in the browser only (after hydration), so the server's
    // HTML and the hydrating app agree: both start without field controls.
    let live = crate::components::use_live();
    let defs = LocalResource::new(|| list_fields(false));
    let defs = Signal::derive(move || {
        if live.get() {
            defs.get().and_then(Result::ok).unwrap_or_default()
        } else {
            Vec::new()
        }
    });
    provide_context(FieldDefs(defs));
    let saved_fields = LocalResource::new(get_field_columns);
    let field_columns = Signal::derive(move || {
        if !live.get() {
            return Vec::new();
        }
        let keys = match query.read().field_columns.clone() {
            Some(keys) => keys,
            None => saved_fields.get().and_then(Result::ok).unwrap_or_default(),
        };
        let defs = defs.get();
        keys.iter()
            .filter_map(|k| defs.iter().find(|d| &d.key == k).cloned())
            .collect::<Vec<_>>()
    });
    provide_context(FieldColumns(field_columns));

    // While the drawer (a child route) is open, the page behind it is inert: the
    // dialog is modal for the keyboard and for assistive technology alike.
    let drawer_open = move || location.pathname.read().trim_end_matches('/') != "/users";

    view! {
        <SignedIn page=move |me| view! { <UsersWorkspace me drawer_open=Signal::derive(drawer_open)/> }/>
    }
}

/// The signed-in users page: the shared state, the table, and the dialogs over it.
#[component]
fn UsersWorkspace(me: AdminInfo, drawer_open: Signal<bool>) -> impl IntoView {
    let ctx = UsersCtx::new(me.clone());
    provide_context(ctx);
    use_users_keys();
    let can_write = ctx.can(USERS_WRITE);
    let overlay = move || {
        drawer_open.get()
            || ctx.creating.get()
            || ctx.confirm.read().is_some()
            || ctx.reset.read().is_some()
            || ctx.help.get()
    };
    view! {
        <div class="app">
            <TopBar me current="users" inert=Signal::derive(overlay)/>
            <main class="users-main workspace" inert=overlay>
                <div class="page-head">
                    <h1>"Users"</h1>
                    <div class="head-actions">
                        <button type="button" class="ghost" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)"
                            on:click=move |_| ctx.help.set(true)>"?"</button>
                        <ColumnChooser/>
                        {ctx.can(USERS_EXPORT).then(|| view! { <ExportMenu/> })}
                        {can_write.then(|| view! {
                            <button type="button" class="primary" on:click=move |_| ctx.creating.set(true)>"New user"</button>
                        })}
                    </div>
                </div>
                <UserFilters/>
                <UsersTable/>
            </main>
            <Outlet/>
            <NewUserDialog/>
            <ConfirmCommand/>
            <ResetPasswordDialog/>
            <KeyboardHelp/>
            <Notices/>
        </div>
    }
}

/// The child route of `/users` when no user is open: nothing extra to show.
#[component]
pub fn UsersIndex() -> impl IntoView {}
