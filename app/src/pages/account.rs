//! /account and /account/set-password: a small page for the managed users themselves,
//! on top of the same `/api/v1/auth/*` API their apps use, so ban, password reset,
//! invitations and "log out everywhere" can be tried by hand. The session token is
//! kept in this tab's sessionStorage. Everything here runs in the browser.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::Deserialize;

use crate::domain::account::{check_password, MIN_PASSWORD_CHARS};
use crate::domain::ApiError;

/// A managed user as `/api/v1/auth/me` returns them.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AccountUser {
    pub id: i64,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub password_change_required: bool,
}

impl AccountUser {
    fn name(&self) -> String {
        crate::domain::user::display_name(&self.first_name, &self.last_name, &self.email)
    }
}

#[derive(Clone, Debug, Deserialize)]
struct SignedIn {
    token: String,
    user: AccountUser,
}

#[derive(Clone, Debug, Deserialize)]
struct LinkInfo {
    email: String,
    invitation: bool,
}

impl ApiError {
    fn local(field: &str, message: &str) -> Self {
        ApiError {
            code: "validation".into(),
            message: message.into(),
            fields: BTreeMap::from([(field.to_string(), vec![message.to_string()])]),
        }
    }

    fn field(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .filter(|m| !m.is_empty())
            .map(|m| m.join(" "))
    }

    /// The message for the whole form: field problems are shown beside their fields.
    fn general(&self) -> Option<String> {
        self.fields.is_empty().then(|| self.message.clone())
    }
}

const TOKEN_KEY: &str = "roster.account.token";

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

fn stored_token() -> Option<String> {
    storage()?.get_item(TOKEN_KEY).ok().flatten()
}

fn store_token(token: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match token {
            Some(t) => s.set_item(TOKEN_KEY, t),
            None => s.remove_item(TOKEN_KEY),
        };
    }
}

/// Calls `/api/v1/auth/<path>`; `Ok(None)` for an empty answer (204).
#[cfg(feature = "hydrate")]
async fn call(
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<Option<serde_json::Value>, ApiError> {
    use gloo_net::http::Request;
    let url = format!("/api/v1/auth/{path}");
    let mut request = if body.is_some() {
        Request::post(&url)
    } else {
        Request::get(&url)
    };
    if let Some(t) = token {
        request = request.header("Authorization", &format!("Bearer {t}"));
    }
    let unreachable = |e: gloo_net::Error| ApiError {
        code: "network".into(),
        message: format!("Roster could not be reached ({e}). Try again."),
        fields: BTreeMap::new(),
    };
    let response = match body {
        Some(b) => request.json(&b).map_err(unreachable)?.send().await,
        None => request.send().await,
    }
    .map_err(unreachable)?;
    if response.status() == 204 {
        return Ok(None);
    }
    let value: serde_json::Value = response.json().await.map_err(unreachable)?;
    if response.ok() {
        Ok(Some(value))
    } else {
        Err(serde_json::from_value(value).unwrap_or_else(|_| ApiError {
            code: "unknown".into(),
            message: format!("Roster answered {}.", response.status()),
            fields: BTreeMap::new(),
        }))
    }
}

#[cfg(not(feature = "hydrate"))]
async fn call(
    _path: &str,
    _token: Option<&str>,
    _body: Option<serde_json::Value>,
) -> Result<Option<serde_json::Value>, ApiError> {
    Err(ApiError {
        code: "unavailable".into(),
        message: "This page works in the browser.".into(),
        fields: BTreeMap::new(),
    })
}

async fn call_as<T: serde::de::DeserializeOwned>(
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<T, ApiError> {
    let value = call(path, token, body).await?.unwrap_or_default();
    serde_json::from_value(value).map_err(|e| ApiError {
        code: "unknown".into(),
        message: format!("Roster's answer could not be read ({e})."),
        fields: BTreeMap::new(),
    })
}

/// What the page shows.
#[derive(Clone, Debug, PartialEq)]
enum Screen {
    Loading,
    SignIn,
    /// Signed in with a temporary password; `current` is it when just typed.
    MustChange {
        current: String,
    },
    SignedIn(AccountUser),
}

fn field_input(
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete=autocomplete required
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()/>
            <p id=error_id class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}

/// The new password and its repetition, checked alike before sending.
fn check_repeat(new: &str, repeat: &str) -> Result<(), ApiError> {
    if let Err(message) = check_password(new) {
        return Err(ApiError::local("new_password", &message));
    }
    if new != repeat {
        return Err(ApiError::local(
            "repeat",
            "The two new passwords are not the same.",
        ));
    }
    Ok(())
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let (screen, set_screen) = signal(Screen::Loading);
    let (notice, set_notice) = signal(None::<String>);
    // In the browser only: the token lives in this tab's sessionStorage.
    Effect::new(move |_| {
        let Some(token) = stored_token() else {
            set_screen.set(Screen::SignIn);
            return;
        };
        leptos::task::spawn_local(async move {
            match call_as::<AccountUser>("me", Some(&token), None).await {
                Ok(user) => set_screen.set(Screen::SignedIn(user)),
                Err(e) if e.code == "password_change_required" => {
                    set_screen.set(Screen::MustChange {
                        current: String::new(),
                    })
                }
                Err(e) => {
                    store_token(None);
                    set_notice.set(Some(if e.code == "invalid_token" {
                        "Your session has ended. Sign in again.".to_string()
                    } else {
                        e.message
                    }));
                    set_screen.set(Screen::SignIn);
                }
            }
        });
    });
    view! {
        <main class="center-page">
            <section class="login-card" aria-labelledby="account-title">
                {move || match screen.get() {
                    Screen::Loading => view! {
                        <h1 id="account-title">"Your account"</h1>
                        <p role="status">"Loading…"</p>
                    }.into_any(),
                    Screen::SignIn => view! { <SignInForm set_screen notice set_notice/> }.into_any(),
                    Screen::MustChange { current } => view! { <ChangePassword current forced=true set_screen set_notice/> }.into_any(),
                    Screen::SignedIn(user) => view! { <SignedInView user set_screen notice set_notice/> }.into_any(),
                }}
            </section>
        </main>
    }
}

#[component]
fn SignInForm(
    set_screen: WriteSignal<Screen>,
    notice: ReadSignal<Option<String>>,
    set_notice: WriteSignal<Option<String>>,
) -> impl IntoView {
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<ApiError>);
    let submit = Action::new_local(move |_: &()| {
        let (login, password) = (login.get_untracked(), password.get_untracked());
        async move {
            let body = serde_json::json!({ "login": login, "password": password });
            match call_as::<SignedIn>("sign-in", None, Some(body)).await {
                Ok(s) => {
                    store_token(Some(&s.token));
                    set_notice.set(None);
                    set_screen.set(if s.user.password_change_required {
                        Screen::MustChange { current: password }
                    } else {
                        Screen::SignedIn(s.user)
                    });
                }
                Err(e) => set_error.set(Some(e)),
            }
        }
    });
    let field =
        move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(name)));
    view! {
        <h1 id="account-title">"Sign in to your account"</h1>
        <p class="notice-line" role="status">{move || notice.get()}</p>
        <form on:submit=move |ev| { ev.prevent_default(); set_error.set(None); submit.dispatch(()); }>
            {field_input("account-login", "Email, username or phone", "text", "username", login, field("login"))}
            {field_input("account-password", "Password", "password", "current-password", password, field("password"))}
            <p class="form-error" role="alert">{move || error.get().and_then(|e| e.general())}</p>
            <button type="submit" class="primary" disabled=move || submit.pending().get()>
                {move || if submit.pending().get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}

#[component]
fn SignedInView(
    user: AccountUser,
    set_screen: WriteSignal<Screen>,
    notice: ReadSignal<Option<String>>,
    set_notice: WriteSignal<Option<String>>,
) -> impl IntoView {
    let sign_out = Action::new_local(move |_: &()| async move {
        // The session ends on the server even when the answer is lost.
        let _ = call(
            "sign-out",
            stored_token().as_deref(),
            Some(serde_json::json!({})),
        )
        .await;
        store_token(None);
        set_notice.set(Some("You are signed out.".into()));
        set_screen.set(Screen::SignIn);
    });
    view! {
        <h1 id="account-title">"Your account"</h1>
        <p>"Signed in as "<strong>{user.name()}</strong>" ("{user.email.clone()}")"</p>
        <p class="notice-line" role="status">{move || notice.get()}</p>
        <ChangePassword current=String::new() forced=false set_screen set_notice/>
        <button type="button" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
    }
}

/// Changes the password of the signed-in user; `forced` after a temporary password.
#[component]
fn ChangePassword(
    current: String,
    forced: bool,
    set_screen: WriteSignal<Screen>,
    set_notice: WriteSignal<Option<String>>,
) -> impl IntoView {
    let ask_current = current.is_empty();
    let current = RwSignal::new(current);
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<ApiError>);
    let submit = Action::new_local(move |_: &()| async move {
        let (c, n, r) = (
            current.get_untracked(),
            new.get_untracked(),
            repeat.get_untracked(),
        );
        if let Err(e) = check_repeat(&n, &r) {
            set_error.set(Some(e));
            return;
        }
        let body = serde_json::json!({ "current_password": c, "new_password": n });
        match call_as::<AccountUser>("change-password", stored_token().as_deref(), Some(body)).await
        {
            Ok(user) => {
                set_notice.set(Some(
                    "Your password was changed. Your other sessions have ended.".into(),
                ));
                set_screen.set(Screen::SignedIn(user));
            }
            Err(e) if e.code == "invalid_token" => {
                store_token(None);
                set_notice.set(Some("Your session has ended. Sign in again.".into()));
                set_screen.set(Screen::SignIn);
            }
            Err(e) => set_error.set(Some(e)),
        }
    });
    let field =
        move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(name)));
    view! {
        {if forced {
            view! {
                <h1 id="account-title">"Choose a new password"</h1>
                <p>"You signed in with a temporary password. Choose your own to continue."</p>
            }.into_any()
        } else {
            view! { <h2>"Change your password"</h2> }.into_any()
        }}
        <form on:submit=move |ev| { ev.prevent_default(); set_error.set(None); submit.dispatch(()); }>
            {ask_current.then(|| field_input(
                "account-current", if forced { "Temporary password" } else { "Current password" },
                "password", "current-password", current, field("current_password")))}
            {field_input("account-new", "New password", "password", "new-password", new, field("new_password"))}
            {field_input("account-repeat", "New password again", "password", "new-password", repeat, field("repeat"))}
            <p class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
            <p class="form-error" role="alert">{move || error.get().and_then(|e| e.general())}</p>
            <button type="submit" class="primary" disabled=move || submit.pending().get()>
                {move || if submit.pending().get() { "Saving…" } else { "Change password" }}
            </button>
        </form>
    }
}

/// /account/set-password?token=…: the page a reset or invitation email links to.
#[component]
pub fn SetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    // None while loading; the link's owner, or why it cannot be used.
    let (info, set_info) = signal(None::<Result<LinkInfo, ApiError>>);
    let (done, set_done) = signal(false);
    Effect::new(move |_| {
        let token = token();
        leptos::task::spawn_local(async move {
            let answer = if token.is_empty() {
                Err(ApiError {
                    code: "invalid_link".into(),
                    message: "This link is incomplete: open the whole link from the email.".into(),
                    fields: BTreeMap::new(),
                })
            } else {
                call_as::<LinkInfo>("link", None, Some(serde_json::json!({ "token": token }))).await
            };
            set_info.set(Some(answer));
        });
    });
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<ApiError>);
    let submit = Action::new_local(move |_: &()| async move {
        let (n, r) = (new.get_untracked(), repeat.get_untracked());
        if let Err(e) = check_repeat(&n, &r) {
            set_error.set(Some(e));
            return;
        }
        let body = serde_json::json!({ "token": token(), "new_password": n });
        match call("set-password", None, Some(body)).await {
            Ok(_) => set_done.set(true),
            Err(e) => set_error.set(Some(e)),
        }
    });
    let field =
        move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(name)));
    view! {
        <main class="center-page">
            <section class="login-card" aria-labelledby="account-title">
                {move || match (info.get(), done.get()) {
                    (_, true) => view! {
                        <h1 id="account-title">"Your password is set"</h1>
                        <p role="status">"You can sign in with it now."</p>
                        <a class="button primary" href="/account">"Sign in"</a>
                    }.into_any(),
                    (None, _) => view! {
                        <h1 id="account-title">"Set your password"</h1>
                        <p role="status">"Checking the link…"</p>
                    }.into_any(),
                    (Some(Err(e)), _) => view! {
                        <h1 id="account-title">"This link cannot be used"</h1>
                        <p role="alert">{e.message}</p>
                    }.into_any(),
                    (Some(Ok(link)), _) => view! {
                        <h1 id="account-title">{if link.invitation { "Welcome: choose your password" } else { "Choose a new password" }}</h1>
                        <p>"For "<strong>{link.email.clone()}</strong></p>
                        <form on:submit=move |ev| { ev.prevent_default(); set_error.set(None); submit.dispatch(()); }>
                            {field_input("account-new", "New password", "password", "new-password", new, field("new_password"))}
                            {field_input("account-repeat", "New password again", "password", "new-password", repeat, field("repeat"))}
                            <p class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
                            <p class="form-error" role="alert">{move || error.get().and_then(|e| e.general())}</p>
                            <button type="submit" class="primary" disabled=move || submit.pending().get()>
                                {move || if submit.pending().get() { "Saving…" } else { "Set password" }}
                            </button>
                        </form>
                    }.into_any(),
                }}
            </section>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_read_the_api_shape() {
        let e: ApiError = serde_json::from_value(serde_json::json!({
            "error": "validation", "message": "Use at least 12 characters.",
            "fields": { "new_password": ["Use at least 12 characters."] }
        }))
        .unwrap();
        assert_eq!(e.code, "validation");
        assert_eq!(
            e.field("new_password").as_deref(),
            Some("Use at least 12 characters.")
        );
        assert_eq!(e.general(), None, "field problems are shown by the field");
        let banned: ApiError = serde_json::from_value(
            serde_json::json!({ "error": "account_banned", "message": "This account is banned." }),
        )
        .unwrap();
        assert_eq!(banned.general().as_deref(), Some("This account is banned."));
    }

    #[test]
    fn new_passwords_are_checked_before_sending() {
        let short = check_repeat("short", "short").unwrap_err();
        assert!(short.field("new_password").unwrap().contains("12"));
        let differ = check_repeat("a long password 1", "a long password 2").unwrap_err();
        assert_eq!(
            differ.field("repeat").as_deref(),
            Some("The two new passwords are not the same.")
        );
        assert!(check_repeat("a long password 1", "a long password 1").is_ok());
    }
}
