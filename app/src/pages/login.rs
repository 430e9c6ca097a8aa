//! The admin sign-in page. The form is a real form post to the server function, so it
//! works before the WASM has loaded; once hydrated, the submit is sent by the client
//! and errors show beside their fields.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{current_admin, safe_next, SignIn};
use crate::domain::AppError;

#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next").as_deref());
    // Already signed in: go straight on.
    let already = Resource::new(|| (), |_| current_admin());
    let error = move || match sign_in.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    // After a client-side sign-in, load the app fresh so every resource sees the cookie.
    Effect::new(move |_| {
        if let Some(Ok(admin)) = sign_in.value().get() {
            let to = if admin.must_change_password {
                crate::api::auth::password_page(&next())
            } else {
                next()
            };
            let _ = window().location().set_href(&to);
        }
    });
    let field_error = move |field: &'static str| {
        move || {
            error()
                .map(|e| e.field_messages(field).join(" "))
                .filter(|m| !m.is_empty())
        }
    };
    let general_error = move || {
        error().and_then(|e| match e {
            AppError::Validation(_) => None,
            other => Some(other.to_string()),
        })
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                already.await.is_ok().then(|| view! { <leptos_router::components::Redirect path=next()/> })
            })}
        </Suspense>
        <main class="center-page">
            <section class="login-card" aria-labelledby="login-title">
                <h1 id="login-title">"Sign in to Roster"</h1>
                <form method="post" action="/api/sign_in" on:submit=move |ev| {
                    ev.prevent_default();
                    let value = |input: NodeRef<leptos::html::Input>| input.get().map(|i| i.value()).unwrap_or_default();
                    sign_in.dispatch(SignIn { email: value(email), password: value(password), next: Some(next()) });
                }>
                    <input type="hidden" name="next" value=next/>
                    <div class="field">
                        <label for="login-email">"Email"</label>
                        <input node_ref=email id="login-email" type="email" name="email" autocomplete="username" required autofocus
                            aria-invalid=move || field_error("email")().is_some().to_string()
                            aria-describedby="login-email-error"/>
                        <p id="login-email-error" class="field-error" role="alert">{field_error("email")}</p>
                    </div>
                    <div class="field">
                        <label for="login-password">"Password"</label>
                        <input node_ref=password id="login-password" type="password" name="password" autocomplete="current-password" required
                            aria-invalid=move || field_error("password")().is_some().to_string()
                            aria-describedby="login-password-error"/>
                        <p id="login-password-error" class="field-error" role="alert">{field_error("password")}</p>
                    </div>
                    <p class="form-error" role="alert">{general_error}</p>
                    <button type="submit" class="primary" disabled=move || sign_in.pending().get()>
                        {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </form>
            </section>
        </main>
    }
}
