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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: mark the page as interactive
    // (end-to-end tests wait for this instead of sleeping).
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
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
