//! Roster: the Leptos app, compiled for the server (`ssr`) and the browser (`hydrate`).

pub mod api;
pub mod components;
pub mod domain;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::user_drawer::UserDrawer;
use pages::account::{AccountPage, SetPasswordPage};
use pages::audit::AuditPage;
use pages::fields::FieldsPage;
use pages::groups::GroupsPage;
use pages::imports::{ImportJobPage, ImportsPage};
use pages::login::LoginPage;
use pages::outbox::OutboxPage;
use pages::password::PasswordPage;
use pages::reminders::RemindersPage;
use pages::roles::RolesPage;
use pages::settings::SettingsPage;
use pages::users::{UsersIndex, UsersPage};

/// The Content-Security-Policy of a page whose inline scripts carry `nonce`: scripts
/// only from this site or with the nonce (and WASM compiled), no framing, forms and
/// fetches only to this site. Inline `style` attributes (tag colours) are allowed.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The HTML document around the app (server side). It also sets the page's CSP
/// header, with this response's nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(value) = axum::http::HeaderValue::from_str(&content_security_policy(&nonce)) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet id="roster" options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The field an admin was already in when the page became interactive. Hydration can
/// take the focus away (the server-rendered page works before it, see the users page's
/// search form); the app gives it back, with the caret where it was.
mod focus {
    /// The focused element's id and, for a text field, its selection.
    #[derive(Clone, Debug, Default)]
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub struct Focused {
        id: String,
        selection: Option<(u32, u32)>,
    }

    /// Read while the app is created, before hydration has touched the page.
    pub fn before_hydration() -> Option<Focused> {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let active = leptos::prelude::document().active_element()?;
            let id = active.id();
            if id.is_empty() {
                return None;
            }
            let selection = active
                .dyn_ref::<web_sys::HtmlInputElement>()
                .and_then(|i| Some((i.selection_start().ok()??, i.selection_end().ok()??)));
            Some(Focused { id, selection })
        }
        #[cfg(not(feature = "hydrate"))]
        None
    }

    /// Gives the focus back after hydration, unless it has moved on to another element
    /// meanwhile. Hydration may hold a part of the page aside for a few frames (a
    /// suspended view), so this tries again each frame for up to half a second.
    pub fn restore(focused: Option<Focused>) {
        #[cfg(feature = "hydrate")]
        if let Some(f) = focused {
            try_restore(f, 30);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = focused;
    }

    #[cfg(feature = "hydrate")]
    fn try_restore(f: Focused, frames_left: u32) {
        leptos::prelude::request_animation_frame(move || {
            use wasm_bindgen::JsCast;
            let document = leptos::prelude::document();
            let elsewhere = document
                .active_element()
                .is_some_and(|a| a.id() != f.id && a.tag_name() != "BODY");
            if elsewhere {
                return;
            }
            let Some(el) = document
                .get_element_by_id(&f.id)
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                if frames_left > 0 {
                    try_restore(f, frames_left - 1);
                }
                return;
            };
            if document.active_element().is_some_and(|a| a.id() == f.id) {
                return;
            }
            let _ = el.focus();
            if let (Some(input), Some((start, end))) =
                (el.dyn_ref::<web_sys::HtmlInputElement>(), f.selection)
            {
                let _ = input.set_selection_range(start, end);
            }
        });
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(components::signed_in::RemindersChanged(RwSignal::new(0)));
    // Effects run only in the browser, after hydration: mark the page as interactive
    // (end-to-end tests wait for this instead of sleeping).
    let focused = focus::before_hydration();
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
        focus::restore(focused.clone());
    });
    view! {
        <Title text="Roster"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/password") view=PasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=AccountPage/>
                <Route path=path!("/account/set-password") view=SetPasswordPage/>
                <Route path=path!("/outbox") view=OutboxPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/users") view=UsersPage ssr=SsrMode::Async>
                    <Route path=path!(":id") view=UserDrawer ssr=SsrMode::Async/>
                    <Route path=path!("") view=UsersIndex ssr=SsrMode::Async/>
                </ParentRoute>
                <Route path=path!("/groups") view=GroupsPage ssr=SsrMode::Async/>
                <Route path=path!("/imports") view=ImportsPage ssr=SsrMode::Async/>
                <Route path=path!("/fields") view=FieldsPage ssr=SsrMode::Async/>
                <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/imports/:id") view=ImportJobPage ssr=SsrMode::Async/>
                <Route path=path!("/reminders") view=RemindersPage ssr=SsrMode::Async/>
                <Route path=path!("/roles") view=RolesPage ssr=SsrMode::Async/>
                <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async/>
                <Route path=path!("/") view=|| view! { <Redirect path="/users"/> }/>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="center-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <a href="/users">"Go to users"</a>
        </main>
    }
}
