//! The users page: header, filters, the table with paging, and the drawer outlet.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::api::auth::{current_admin, sign_out};
use crate::api::users::get_hidden_columns;
use crate::components::column_chooser::ColumnChooser;
use crate::components::use_user_query;
use crate::components::user_filters::UserFilters;
use crate::components::users_table::UsersTable;
use crate::domain::{AppError, Column};

/// Columns hidden in the current view: the URL's choice, else the admin's saved one.
#[derive(Clone, Copy)]
pub struct HiddenColumns(pub Signal<Vec<Column>>);

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

    // While the drawer (a child route) is open, the page behind it is inert: the
    // dialog is modal for the keyboard and for assistive technology alike.
    let drawer_open = move || location.pathname.read().trim_end_matches('/') != "/users";

    let do_sign_out = Action::new(|_: &()| sign_out());
    Effect::new(move |_| {
        if do_sign_out.value().get().is_some() {
            let _ = window().location().set_href("/login");
        }
    });

    view! {
        <Suspense fallback=|| view! { <p class="page-loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match admin.await {
                    Err(AppError::Unauthorized) => view! { <Redirect path=login_href()/> }.into_any(),
                    Err(e) => view! {
                        <main class="center-page"><p role="alert">{e.to_string()}</p></main>
                    }.into_any(),
                    Ok(me) => view! {
                        <div class="app">
                            <header class="topbar" inert=drawer_open>
                                <a class="brand" href="/users">"Roster"</a>
                                <nav aria-label="Main"><a href="/users" aria-current="page">"Users"</a></nav>
                                <div class="me">
                                    <span class="me-name" title=me.email.clone()>{me.name.clone()}" · "{me.role.clone()}</span>
                                    <button type="button" class="ghost" on:click=move |_| { do_sign_out.dispatch(()); }>
                                        "Sign out"
                                    </button>
                                </div>
                            </header>
                            <main class="users-main" inert=drawer_open>
                                <div class="page-head">
                                    <h1>"Users"</h1>
                                    <ColumnChooser/>
                                </div>
                                <UserFilters/>
                                <UsersTable/>
                            </main>
                            <Outlet/>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
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
