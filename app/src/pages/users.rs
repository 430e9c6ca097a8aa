//! The users page: header, filters, the table with paging, and the drawer outlet.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::api::auth::{current_admin, sign_out};
use crate::api::fields::list_fields;
use crate::api::users::{get_field_columns, get_hidden_columns};
use crate::components::account_actions::ResetPasswordDialog;
use crate::components::column_chooser::ColumnChooser;
use crate::components::export_menu::ExportMenu;
use crate::components::keyboard::{use_users_keys, KeyboardHelp};
use crate::components::new_user::NewUserDialog;
use crate::components::notices::Notices;
use crate::components::row_menu::ConfirmDelete;
use crate::components::user_filters::UserFilters;
use crate::components::users_table::UsersTable;
use crate::components::{use_user_query, UsersCtx};
use crate::domain::fields::FieldDef;
use crate::domain::permissions::{USERS_EXPORT, USERS_IMPORT, USERS_WRITE};
use crate::domain::{AdminInfo, AppError, Column};

/// Columns hidden in the current view: the URL's choice, else the admin's saved one.
#[derive(Clone, Copy)]
pub struct HiddenColumns(pub Signal<Vec<Column>>);

/// The active custom profile fields, in order (empty until loaded).
#[derive(Clone, Copy)]
pub struct FieldDefs(pub Signal<Vec<FieldDef>>);

/// The custom fields shown as columns in the current view (active ones only, in the
/// order chosen): the URL's choice, else the admin's saved one.
#[derive(Clone, Copy)]
pub struct FieldColumns(pub Signal<Vec<FieldDef>>);

#[component]
pub fn UsersPage() -> impl IntoView {
    let admin = Resource::new(|| (), |_| current_admin());
    let location = use_location();
    let login_href = move || {
        let here = format!(
            "{}{}",
            location.pathname.get(),
            search_suffix(&location.search.get())
        );
        format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
        )
    };

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
        <Suspense fallback=|| view! { <p class="page-loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match admin.await {
                    Err(AppError::Unauthorized) => view! { <Redirect path=login_href()/> }.into_any(),
                    Err(AppError::PasswordChangeRequired) => view! { <crate::components::PasswordFirst/> }.into_any(),
                    Err(e) => view! {
                        <main class="center-page"><p role="alert">{e.to_string()}</p></main>
                    }.into_any(),
                    Ok(me) => view! { <UsersWorkspace me drawer_open=Signal::derive(drawer_open)/> }.into_any(),
                }
            })}
        </Suspense>
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
            <main class="users-main" inert=overlay>
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
            <ConfirmDelete/>
            <ResetPasswordDialog/>
            <KeyboardHelp/>
            <Notices/>
        </div>
    }
}

/// The dark bar on every signed-in page: navigation and the signed-in admin.
#[component]
pub fn TopBar(
    me: AdminInfo,
    current: &'static str,
    #[prop(into)] inert: Signal<bool>,
) -> impl IntoView {
    let do_sign_out = Action::new(|_: &()| sign_out());
    Effect::new(move |_| {
        if do_sign_out.value().get().is_some() {
            let _ = window().location().set_href("/login");
        }
    });
    let link = move |href: &'static str, key: &'static str, label: &'static str| {
        view! { <a href=href aria-current=(current == key).then_some("page")>{label}</a> }
    };
    let can_import = me.permissions.iter().any(|p| p == USERS_IMPORT);
    let can_audit = me
        .permissions
        .iter()
        .any(|p| p == crate::domain::permissions::AUDIT_READ);
    let can_fields = me
        .permissions
        .iter()
        .any(|p| p == crate::domain::permissions::FIELDS_MANAGE);
    let can_passwords = me
        .permissions
        .iter()
        .any(|p| p == crate::domain::permissions::USERS_PASSWORDS);
    let can_roles = me
        .permissions
        .iter()
        .any(|p| p == crate::domain::permissions::ROLES_MANAGE);
    let can_keys = me
        .permissions
        .iter()
        .any(|p| p == crate::domain::permissions::API_KEYS_MANAGE);
    // The due count is read in the browser (a LocalResource is empty on the server and
    // while hydrating) and again every minute.
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(60),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let due = LocalResource::new(move || {
        tick.track();
        crate::api::activity::due_reminder_count()
    });
    let live = crate::components::use_live();
    let due_count = move || {
        if live.get() {
            due.get().and_then(Result::ok).unwrap_or(0)
        } else {
            0
        }
    };
    view! {
        <header class="topbar" inert=move || inert.get()>
            <a class="brand" href="/users">"Roster"</a>
            <nav aria-label="Main">
                {link("/users", "users", "Users")}
                {link("/groups", "groups", "Groups")}
                {can_import.then(|| link("/imports", "imports", "Imports"))}
                {can_fields.then(|| link("/fields", "fields", "Profile fields"))}
                {can_audit.then(|| link("/audit", "audit", "Audit log"))}
                <a href="/reminders" aria-current=(current == "reminders").then_some("page")
                    aria-label=move || match due_count() { 0 => "Reminders".to_string(), n => format!("Reminders, {n} due") }>
                    "Reminders"
                    {move || (due_count() > 0).then(|| view! { <span class="count-badge" aria-hidden="true">{due_count()}</span> })}
                </a>
                {can_passwords.then(|| link("/outbox", "outbox", "Outbox"))}
                {can_roles.then(|| link("/roles", "roles", "Roles"))}
                {can_keys.then(|| link("/settings", "settings", "Settings"))}
            </nav>
            <div class="me">
                <span class="me-name" title=me.email.clone()>{me.name.clone()}" · "{me.role.clone()}</span>
                <button type="button" class="ghost" on:click=move |_| { do_sign_out.dispatch(()); }>
                    "Sign out"
                </button>
            </div>
        </header>
    }
}

/// The child route of `/users` when no user is open: nothing extra to show.
#[component]
pub fn UsersIndex() -> impl IntoView {}

fn search_suffix(search: &str) -> String {
    let s = search.trim_start_matches('?');
    if s.is_empty() {
        String::new()
    } else {
        format!("?{s}")
    }
}
