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

    let state = state()?;
    let parts = use_context::<Parts>();
    let header_text = |name: header::HeaderName| {
        parts
            .as_ref()
            .and_then(|p| p.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let forwarded = header_text(header::HeaderName::from_static("x-forwarded-for"));
    let peer = parts
        .as_ref()
        .and_then(|p| {
            p.extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        })
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let client = ClientInfo {
        user_agent: header_text(header::USER_AGENT),
        ip: if forwarded.is_empty() {
            peer
        } else {
            forwarded
        },
    };
    // Throttling: too many failures for this account or from this address are refused
    // before the password is even checked.
    let account = format!("acct:{}", email.trim().to_lowercase());
    let address = format!(
        "ip:{}",
        client.ip.split(',').next().unwrap_or_default().trim()
    );
    let limits = &state.limits;
    if let Some(wait) = limits
        .sign_in_account
        .blocked(&account)
        .or_else(|| limits.sign_in_ip.blocked(&address))
    {
        return Err(fail(crate::backend::ServiceError::field(
            "password",
            format!(
                "Too many failed sign-ins. Try again in {}.",
                crate::backend::ingest::wait_text(wait)
            ),
        )));
    }
    let (token, admin) = match auth::sign_in(&state.db, &state.config, &email, &password, &client)
        .await
    {
        Ok(ok) => {
            limits.sign_in_account.clear(&account);
            ok
        }
        Err(e) => {
            if matches!(e, crate::backend::ServiceError::Validation(_)) && !password.is_empty() {
                limits.sign_in_account.fail(&account);
                limits.sign_in_ip.fail(&address);
            }
            return Err(fail(e));
        }
    };
    let cookie = auth::session_cookie(Some(&token), &state.config);
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| fail(anyhow::anyhow!(e).into()))?,
    );
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(admin)
}

/// Ends the current session and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use axum::http::{header, HeaderValue};

    use super::guard::{fail, session_token, state};
    use crate::backend::auth;

    let state = state()?;
    if let Some(token) = session_token() {
        auth::sign_out(&state.db, &token).await.map_err(fail)?;
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::session_cookie(None, &state.config))
            .map_err(|e| fail(anyhow::anyhow!(e).into()))?,
    );
    Ok(())
}

/// The signed-in admin; `Unauthorized` when there is none.
#[server(endpoint = "current_admin")]
pub async fn current_admin() -> Result<AdminInfo, AppError> {
    use crate::domain::permissions::ADMIN_ACCESS;
    let (_, admin) = super::guard::authorize(ADMIN_ACCESS).await?;
    Ok(admin)
}

/// Where to go after signing in: only paths on this site, never another origin.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/users".to_string(),
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
    }
}
