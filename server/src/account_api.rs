//! `/api/v1/auth/*`: the managed users' own sign-in, by bearer token (no cookies), so
//! ban, password reset and "log out everywhere" take real effect on their apps.
//! Errors are JSON `{"error": <stable code>, "message": …}` (plus `fields` for bad
//! input).

use app::backend::auth::ClientInfo;
use app::backend::throttle::Verdict;
use app::backend::ServiceError;
use app::backend::{links, user_sessions};
use app::domain::{ApiError, Refusal};
use axum::extract::State;
use axum::http::Method;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;

use crate::{Access, Endpoint, ServerState};

/// The routes under `/api/v1`, with who may call each.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/api/v1/auth/sign-in",
            Access::Public,
            post(sign_in),
        ),
        Endpoint::new(Method::GET, "/api/v1/auth/me", Access::UserToken, get(me)),
        Endpoint::new(
            Method::POST,
            "/api/v1/auth/sign-out",
            Access::UserToken,
            post(sign_out),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/auth/change-password",
            Access::UserToken,
            post(change_password),
        ),
        // A link's token is its own credential.
        Endpoint::new(
            Method::POST,
            "/api/v1/auth/link",
            Access::Public,
            post(link),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/auth/set-password",
            Access::Public,
            post(set_password),
        ),
    ]
}

fn refuse(e: ServiceError) -> Response {
    let (status, body) = app::api::edge::api_error(e);
    (status, Json(body)).into_response()
}

fn bad_body(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(ApiError::new("invalid_body", e.to_string())),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| Box::new(bad_body(e)))
}

#[derive(Deserialize)]
struct SignInBody {
    login: String,
    password: String,
}

async fn sign_in(State(state): State<ServerState>, request: axum::extract::Request) -> Response {
    let client =
        ClientInfo::from_request(request.headers(), request.extensions(), &state.app.config);
    let body = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(e) => return bad_body(e),
    };
    let form: SignInBody = match parse(&body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let limits = &state.app.limits;
    let account = match user_sessions::throttle_key(&state.app.db, &form.login).await {
        Ok(key) => key,
        Err(e) => return refuse(e),
    };
    let verdict = match limits
        .sign_in_check(&state.app.db, &account, client.address)
        .await
    {
        Ok(v) => v,
        Err(e) => return refuse(e.into()),
    };
    match verdict {
        Verdict::Locked(wait) => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(ApiError::new(
                    "too_many_attempts",
                    format!(
                        "Too many failed sign-ins. Try again in {}.",
                        app::backend::throttle::wait_text(wait)
                    ),
                )),
            )
                .into_response();
            if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
        Verdict::Go(delay) if !delay.is_zero() => tokio::time::sleep(delay).await,
        Verdict::Go(_) => {}
    }
    match user_sessions::sign_in(
        &state.app.db,
        &state.app.config,
        &form.login,
        &form.password,
        &client,
    )
    .await
    {
        Ok(signed_in) => {
            if let Err(e) = limits
                .sign_in_succeeded(&state.app.db, &account, client.address)
                .await
            {
                return refuse(e.into());
            }
            (StatusCode::OK, Json(signed_in)).into_response()
        }
        Err(e) => {
            if matches!(e, ServiceError::Refused(Refusal::InvalidCredentials)) {
                if let Err(e) = limits
                    .sign_in_failed(&state.app.db, &account, client.address)
                    .await
                {
                    return refuse(e.into());
                }
            }
            refuse(e)
        }
    }
}

async fn me(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    match user_sessions::me(&state.app.db, &bearer(&headers)).await {
        Ok(user) => Json(user).into_response(),
        Err(e) => refuse(e),
    }
}

async fn sign_out(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    match user_sessions::sign_out(&state.app.db, &bearer(&headers)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refuse(e),
    }
}

#[derive(Deserialize)]
struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // Who is asking comes before what they ask.
    if bearer(&headers).is_empty() {
        return refuse(ServiceError::Refused(Refusal::InvalidToken));
    }
    let form: ChangePasswordBody = match parse(&body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    match user_sessions::change_password(
        &state.app.db,
        &bearer(&headers),
        &form.current_password,
        &form.new_password,
    )
    .await
    {
        Ok(user) => Json(user).into_response(),
        Err(e) => refuse(e),
    }
}

#[derive(Deserialize)]
struct LinkBody {
    token: String,
}

async fn link(State(state): State<ServerState>, body: axum::body::Bytes) -> Response {
    let form: LinkBody = match parse(&body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    match links::link_info(&state.app.db, &form.token).await {
        Ok(info) => Json(info).into_response(),
        Err(e) => refuse(e),
    }
}

#[derive(Deserialize)]
struct SetPasswordBody {
    token: String,
    new_password: String,
}

async fn set_password(State(state): State<ServerState>, body: axum::body::Bytes) -> Response {
    let form: SetPasswordBody = match parse(&body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    match links::set_password_with_link(&state.app.db, &form.token, &form.new_password).await {
        Ok(info) => Json(info).into_response(),
        Err(e) => refuse(e),
    }
}
