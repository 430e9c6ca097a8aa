//! What every signed-in page shares: the sign-in check around it ([`SignedIn`]) and
//! the bar at its top ([`TopBar`]).

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::api::auth::{current_admin, sign_out};
use crate::domain::permissions::{
    API_KEYS_MANAGE, AUDIT_READ, FIELDS_MANAGE, ROLES_MANAGE, USERS_IMPORT, USERS_PASSWORDS,
};
use crate::domain::{AdminInfo, AppError};

/// Draws `page` for the signed-in admin. Without a session it goes to the sign-in
/// page (which comes back here, query string included); with a temporary password to
/// the page that changes it; without `permission` (when given) it says so.
#[component]
pub fn SignedIn<F, V>(
    /// The permission the page needs besides signing in.
    #[prop(optional)]
    permission: Option<&'static str>,
    /// The page itself.
    page: F,
) -> impl IntoView
where
    F: Fn(AdminInfo) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let admin = Resource::new(|| (), |_| current_admin());
    let location = use_location();
    let login_href = move || {
        let here = format!(
            "{}{}",
            location.pathname.get_untracked(),
            super::search_suffix(&location.search.get_untracked())
        );
        format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
        )
    };
    view! {
        <Suspense fallback=|| view! { <p class="page-loading" role="status">"Loading…"</p> }>
            {move || {
                let page = page.clone();
                Suspend::new(async move {
                    match admin.await {
                        Err(AppError::Unauthorized) => view! { <Redirect path=login_href()/> }.into_any(),
                        Err(AppError::PasswordChangeRequired) => view! { <super::PasswordFirst/> }.into_any(),
                        Err(e) => view! { <main class="center-page"><p role="alert">{e.to_string()}</p></main> }.into_any(),
                        Ok(me) if permission.is_some_and(|p| !me.can(p)) => view! {
                            <main class="center-page"><p role="alert">
                                {AppError::Forbidden(permission.unwrap_or_default().into()).to_string()}
                            </p></main>
                        }.into_any(),
                        Ok(me) => page(me).into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// How often the Reminders badge reads the due count again.
const DUE_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// Bumped when a reminder is added, changed or done, so the Reminders badge reads the
/// due count at once (provided by the app for every page).
#[derive(Clone, Copy)]
pub struct RemindersChanged(pub RwSignal<u64>);

impl RemindersChanged {
    /// Says a reminder changed (taken from the context when the component is made:
    /// an action's future runs without it).
    pub fn bump(changed: Option<RemindersChanged>) {
        if let Some(RemindersChanged(c)) = changed {
            c.try_update(|v| *v += 1);
        }
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
    let can_import = me.can(USERS_IMPORT);
    let can_audit = me.can(AUDIT_READ);
    let can_fields = me.can(FIELDS_MANAGE);
    let can_passwords = me.can(USERS_PASSWORDS);
    let can_roles = me.can(ROLES_MANAGE);
    let can_keys = me.can(API_KEYS_MANAGE);
    // The due count is read in the browser (a LocalResource is empty on the server and
    // while hydrating), again every few seconds (reminders fall due by the clock, or are
    // set by other admins) and at once when a reminder changes on this page.
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), DUE_REFRESH)
        {
            on_cleanup(move || handle.clear());
        }
    });
    let changed = use_context::<RemindersChanged>();
    let due = LocalResource::new(move || {
        tick.track();
        if let Some(RemindersChanged(c)) = changed {
            c.track();
        }
        crate::api::activity::due_reminder_count()
    });
    let live = super::use_live();
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
