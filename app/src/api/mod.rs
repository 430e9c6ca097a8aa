//! `#[server]` functions, one file per capability. Each is thin: authorize, call one
//! backend service, map the result. Endpoints are stable (`/api/<name>`).

pub mod accounts;
pub mod activity;
pub mod audit;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cookie;
#[cfg(feature = "ssr")]
pub mod edge;
pub mod fields;
pub mod lifecycle;
pub mod roles;
pub mod transfer;
pub mod users;

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    //! The server-side checks every function starts with.

    use axum::http::{header, request::Parts};
    use leptos::prelude::*;

    use crate::backend::auth::{admin_for_token, require};
    use crate::backend::{AppState, ServiceError};
    use crate::domain::{AdminInfo, AppError};

    /// The shared state, or an internal error if the server forgot to provide it.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| fail(anyhow::anyhow!("AppState not provided").into()))
    }

    /// The session token from the request's cookie, if any.
    pub fn session_token(state: &AppState) -> Option<String> {
        let parts = use_context::<Parts>()?;
        super::cookie::session_token_in(&parts.headers, &state.config)
    }

    /// The signed-in admin holding `permission`, with the state; otherwise an
    /// `Unauthorized` (401) or `Forbidden` (403) error, also while the admin's password
    /// is temporary.
    pub async fn authorize(permission: &str) -> Result<(AppState, AdminInfo), AppError> {
        let (state, admin, _) = signed_in().await?;
        require(&admin, permission).map_err(fail)?;
        Ok((state, admin))
    }

    /// The signed-in admin and their session token, whatever their permissions or a
    /// temporary password: only for "who am I" and changing one's own password.
    pub async fn signed_in() -> Result<(AppState, AdminInfo, String), AppError> {
        let state = state()?;
        let token = session_token(&state).ok_or_else(|| fail(ServiceError::Unauthorized))?;
        let admin = admin_for_token(&state.db, &state.config, &token)
            .await
            .map_err(fail)?;
        Ok((state, admin, token))
    }

    /// Turns a service error into the wire error and sets the matching HTTP status.
    pub fn fail(err: ServiceError) -> AppError {
        let (status, err) = super::edge::app_error(err);
        // A plain HTML form post (before the WASM has loaded) is answered with a redirect
        // back to the form by leptos_axum; a status here would replace that redirect.
        let form_post = use_context::<Parts>().is_some_and(|p| {
            p.headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if let (Some(response), false) = (use_context::<leptos_axum::ResponseOptions>(), form_post)
        {
            response.set_status(status);
        }
        err
    }
}
