//! /password: an admin signed in with a temporary password chooses their own before
//! anything else (every other call is refused until then), then goes on to `next`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use leptos_router::components::Redirect;

use crate::api::auth::{current_admin, safe_next, ChangeMyPassword};
use crate::domain::account::MIN_PASSWORD_CHARS;
use crate::domain::AppError;

#[component]
pub fn PasswordPage() -> impl IntoView {
    let admin = Resource::new(|| (), |_| current_admin());
    let location = leptos_router::hooks::use_location();
    let login_href = move || {
        let here = format!("{}{}", location.pathname.get(), location.search.get());
        format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
        )
    };
    view! {
        <Suspense fallback=|| view! { <p class="page-loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match admin.await {
                    Err(AppError::Unauthorized) => view! { <Redirect path=login_href()/> }.into_any(),
                    Err(AppError::PasswordChangeRequired) => view! { <PasswordForm temporary=true/> }.into_any(),
                    Err(e) => view! { <main class="center-page"><p role="alert">{e.to_string()}</p></main> }.into_any(),
                    Ok(_) => view! { <PasswordForm temporary=false/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The form itself: the current password and the new one twice.
#[component]
fn PasswordForm(temporary: bool) -> impl IntoView {
    let change = ServerAction::<ChangeMyPassword>::new();
    let current = NodeRef::<leptos::html::Input>::new();
    let new = NodeRef::<leptos::html::Input>::new();
    let confirm = NodeRef::<leptos::html::Input>::new();
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next").as_deref());
    let (mismatch, set_mismatch) = signal(false);
    let error = move || match change.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    // Changed: load the app fresh, now with every permission of the role.
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            let _ = window().location().set_href(&next());
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
            AppError::Unauthorized => Some("Your session has ended. Sign in again.".to_string()),
            other => Some(other.to_string()),
        })
    };
    let confirm_error = move || {
        mismatch
            .get()
            .then(|| "The two new passwords are not the same.".to_string())
    };
    view! {
        <main class="center-page">
            <section class="login-card" aria-labelledby="password-title">
                <h1 id="password-title">{if temporary { "Choose your own password" } else { "Change your password" }}</h1>
                <p>{if temporary {
                    "You signed in with a temporary password. Choose a new one to go on; your other sessions will end."
                } else {
                    "Your other sessions will end."
                }}</p>
                <form method="post" action="/api/change_my_password" on:submit=move |ev| {
                    ev.prevent_default();
                    let value = |input: NodeRef<leptos::html::Input>| input.get().map(|i| i.value()).unwrap_or_default();
                    let differs = value(new) != value(confirm);
                    set_mismatch.set(differs);
                    if !differs {
                        change.dispatch(ChangeMyPassword { current: value(current), new: value(new) });
                    }
                }>
                    <div class="field">
                        <label for="password-current">{if temporary { "Temporary password" } else { "Current password" }}</label>
                        <input node_ref=current id="password-current" type="password" name="current" autocomplete="current-password" required autofocus
                            aria-invalid=move || field_error("current")().is_some().to_string()
                            aria-describedby="password-current-error"/>
                        <p id="password-current-error" class="field-error" role="alert">{field_error("current")}</p>
                    </div>
                    <div class="field">
                        <label for="password-new">"New password"</label>
                        <input node_ref=new id="password-new" type="password" name="new" autocomplete="new-password" required
                            minlength=MIN_PASSWORD_CHARS.to_string()
                            aria-invalid=move || field_error("new")().is_some().to_string()
                            aria-describedby="password-new-hint password-new-error"/>
                        <p id="password-new-hint" class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
                        <p id="password-new-error" class="field-error" role="alert">{field_error("new")}</p>
                    </div>
                    <div class="field">
                        <label for="password-confirm">"New password again"</label>
                        <input node_ref=confirm id="password-confirm" type="password" autocomplete="new-password" required
                            aria-invalid=move || mismatch.get().to_string()
                            aria-describedby="password-confirm-error"/>
                        <p id="password-confirm-error" class="field-error" role="alert">{confirm_error}</p>
                    </div>
                    <p class="form-error" role="alert">{general_error}</p>
                    <button type="submit" class="primary" disabled=move || change.pending().get()>
                        {move || if change.pending().get() { "Saving…" } else { "Save and continue" }}
                    </button>
                </form>
            </section>
        </main>
    }
}
