//! Admin sign-in, sign-out and "who am I".

use leptos::prelude::*;

use crate::domain::{AdminInfo, AppError};

/// Signs an admin in: sets the HttpOnly session cookie and, for a plain form post,
/// redirects to `next` (or /users).
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<AdminInfo, AppError> {
    use axum::http::{header, request::Parts, HeaderValue};

    use super::guard::{fail, state};
    use crate::backend::auth::{self, ClientInfo};
    use crate::backend::throttle::Verdict;

    let state = state()?;
    let parts = use_context::<Parts>();
    let client = ClientInfo::of(parts.as_ref(), &state.config);
    // Throttling, before the password is even checked: a locked account+address or
    // address is refused; an account under attack from many addresses is slowed down.
    let account = crate::backend::user_sessions::throttle_key(&state.db, &email)
        .await
        .map_err(fail)?;
    let limits = &state.limits;
    let verdict = limits
        .sign_in_check(&state.db, &account, client.address)
        .await
        .map_err(|e| fail(e.into()))?;
    match verdict {
        Verdict::Locked(wait) => {
            return Err(fail(crate::backend::ServiceError::field(
                "password",
                format!(
                    "Too many failed sign-ins. Try again in {}.",
                    crate::backend::throttle::wait_text(wait)
                ),
            )));
        }
        Verdict::Go(delay) if !delay.is_zero() => tokio::time::sleep(delay).await,
        Verdict::Go(_) => {}
    }
    let (token, admin) = match auth::sign_in(&state.db, &state.config, &email, &password, &client)
        .await
    {
        Ok(ok) => {
            limits
                .sign_in_succeeded(&state.db, &account, client.address)
                .await
                .map_err(|e| fail(e.into()))?;
            ok
        }
        Err(e) => {
            if matches!(e, crate::backend::ServiceError::Validation(_)) && !password.is_empty() {
                limits
                    .sign_in_failed(&state.db, &account, client.address)
                    .await
                    .map_err(|e| fail(e.into()))?;
            }
            return Err(fail(e));
        }
    };
    let cookie = crate::api::cookie::session_cookie(Some(&token), &state.config);
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| fail(anyhow::anyhow!(e).into()))?,
    );
    let next = safe_next(next.as_deref());
    if admin.must_change_password {
        leptos_axum::redirect(&password_page(&next));
    } else {
        leptos_axum::redirect(&next);
    }
    Ok(admin)
}

/// The page where an admin changes a temporary password, then goes on to `next`.
pub fn password_page(next: &str) -> String {
    let mut qs = form_urlencoded::Serializer::new(String::new());
    qs.append_pair("next", next);
    format!("/password?{}", qs.finish())
}

/// The signed-in admin changes their own password (the only thing allowed while it is
/// temporary); their other sessions end.
#[server(endpoint = "change_my_password")]
pub async fn change_my_password(current: String, new: String) -> Result<(), AppError> {
    use super::guard::{fail, signed_in};
    let (state, admin, token) = signed_in().await?;
    crate::backend::auth::change_own_password(&state.db, &admin, &token, &current, &new)
        .await
        .map_err(fail)
}

/// Ends the current session and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use axum::http::{header, HeaderValue};

    use super::guard::{fail, session_token, state};
    use crate::backend::auth;

    let state = state()?;
    if let Some(token) = session_token(&state) {
        auth::sign_out(&state.db, &token).await.map_err(fail)?;
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&crate::api::cookie::session_cookie(None, &state.config))
            .map_err(|e| fail(anyhow::anyhow!(e).into()))?,
    );
    Ok(())
}

/// The signed-in admin; `Unauthorized` when there is none.
#[server(endpoint = "current_admin")]
/// (`PasswordChangeRequired` while the password is temporary: the UI then asks for a
/// new one.)
pub async fn current_admin() -> Result<AdminInfo, AppError> {
    use crate::domain::permissions::ADMIN_ACCESS;
    let (_, admin) = super::guard::authorize(ADMIN_ACCESS).await?;
    Ok(admin)
}

/// Where to go after signing in: only paths on this site, never another origin.
///
/// Read the way a browser reads a URL: it drops tabs and newlines anywhere and leading
/// spaces and controls, and takes `\\` for `/`; so any of these, a scheme, or a
/// second leading slash (another host) is refused for the default page.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/users";
    let Some(n) = next else {
        return HOME.to_string();
    };
    let on_site = n.starts_with('/')
        && !n.starts_with("//")
        && n.len() <= 2000
        && !n
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if on_site {
        n.to_string()
    } else {
        HOME.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/users?q=ann")), "/users?q=ann");
        assert_eq!(safe_next(Some("//evil.example")), "/users");
        assert_eq!(safe_next(Some("https://evil.example")), "/users");
        assert_eq!(safe_next(Some("/\\evil.example")), "/users");
        assert_eq!(safe_next(None), "/users");
        // `/%09/evil.example` arrives decoded; browsers drop the tab: `//evil.example`.
        assert_eq!(safe_next(Some("/\t/evil.example")), "/users");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/users");
        assert_eq!(safe_next(Some(" //evil.example")), "/users");
        assert_eq!(safe_next(Some("/ /evil.example")), "/users");
        assert_eq!(safe_next(Some("javascript:alert(1)")), "/users");
        // Still encoded, it is a path on this site.
        assert_eq!(safe_next(Some("/%09/x")), "/%09/x");
    }
}
