//! The errors that cross the wire, and their HTTP statuses (the one mapping).
//!
//! `AppError` is what every server function returns: JSON, so the UI can put a
//! validation message beside its field and send an unauthorised caller to the
//! sign-in page. `ApiError` is the body the managed users' API (`/api/v1/*`) answers
//! with, a stable code and a sentence; `Refusal` names why such a call was refused.
//! Services return `backend::ServiceError`; the edge (`api::edge`) turns it into one
//! of these, once.

use std::collections::BTreeMap;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Field (or row) name -> messages about it.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No signed-in admin: the UI goes to the sign-in page.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// Signed in, but the role lacks the named permission.
    #[error("Your role does not allow this ({0}).")]
    Forbidden(String),
    /// Signed in with a temporary password: nothing but changing it is allowed.
    #[error("Change your temporary password before anything else.")]
    PasswordChangeRequired,
    #[error("{0} was not found.")]
    NotFound(String),
    /// Bad input; messages are keyed by the field or row they concern.
    #[error("Please correct the highlighted fields.")]
    Validation(FieldErrors),
    /// The data changed underneath the caller (stale version, duplicate, ...).
    #[error("{0}")]
    Conflict(String),
    /// Opaque to the caller; the full error chain is in the server log.
    #[error("Something went wrong on the server ({0}). Please try again.")]
    Internal(String),
    /// The call itself failed (network, encoding).
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// A validation error about a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::from([(
            field.to_string(),
            vec![message.into()],
        )]))
    }

    /// One line for the admin: every validation message, or the error itself.
    pub fn summary(&self) -> String {
        match self {
            AppError::Validation(fields) => fields
                .values()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        }
    }

    /// The messages for `field`, if this is a validation error that mentions it.
    pub fn field_messages(&self, field: &str) -> Vec<String> {
        match self {
            AppError::Validation(errors) => errors.get(field).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl AppError {
    /// The HTTP status a server function or file route answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) | AppError::PasswordChangeRequired => 403,
            AppError::NotFound(_) => 404,
            AppError::Validation(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::Internal(_) | AppError::Transport(_) => 500,
        }
    }
}

/// Why a managed user's call was refused; each has a stable code for API clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong login or password (the same for both).
    InvalidCredentials,
    AccountBanned,
    /// Invited and has not set a password yet.
    AccountNotActivated,
    /// The token is unknown, expired or ended (sign-out, reset, log out everywhere).
    InvalidToken,
    /// Signed in with a temporary password: only a password change is allowed.
    PasswordChangeRequired,
    /// A reset or invitation link that is unknown, used or expired.
    InvalidLink,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::InvalidCredentials => "invalid_credentials",
            Refusal::AccountBanned => "account_banned",
            Refusal::AccountNotActivated => "account_not_activated",
            Refusal::InvalidToken => "invalid_token",
            Refusal::PasswordChangeRequired => "password_change_required",
            Refusal::InvalidLink => "invalid_link",
        }
    }

    /// The HTTP status the users' API answers with.
    pub fn status(self) -> u16 {
        match self {
            Refusal::InvalidCredentials | Refusal::InvalidToken => 401,
            Refusal::AccountBanned
            | Refusal::AccountNotActivated
            | Refusal::PasswordChangeRequired => 403,
            Refusal::InvalidLink => 410,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::InvalidCredentials => "The login or password is not correct.",
            Refusal::AccountBanned => "This account is banned.",
            Refusal::AccountNotActivated => {
                "This account has not been activated: use the link in your invitation."
            }
            Refusal::InvalidToken => "Sign in again.",
            Refusal::PasswordChangeRequired => {
                "Change your temporary password before you continue."
            }
            Refusal::InvalidLink => "This link has expired or was already used: ask for a new one.",
        }
    }
}

/// An error answer of the users' API: its stable code, a sentence, and per-field
/// messages (for `validation`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(rename = "error")]
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: FieldErrors,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
            fields: FieldErrors::new(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::new(r.code(), r.message())
    }
}

impl From<AppError> for ApiError {
    /// The users' API's spelling of an error that is not a [`Refusal`].
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(fields) => ApiError {
                code: "validation".into(),
                message: fields
                    .values()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
                fields,
            },
            AppError::Unauthorized => Refusal::InvalidToken.into(),
            AppError::PasswordChangeRequired => Refusal::PasswordChangeRequired.into(),
            AppError::Internal(reference) => {
                ApiError::new("internal", format!("Something went wrong ({reference})."))
            }
            other => ApiError::new("internal", other.to_string()),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_have_stable_codes_and_statuses() {
        let cases = [
            (Refusal::InvalidCredentials, "invalid_credentials", 401),
            (Refusal::AccountBanned, "account_banned", 403),
            (Refusal::AccountNotActivated, "account_not_activated", 403),
            (
                Refusal::PasswordChangeRequired,
                "password_change_required",
                403,
            ),
            (Refusal::InvalidToken, "invalid_token", 401),
            (Refusal::InvalidLink, "invalid_link", 410),
        ];
        for (r, code, status) in cases {
            assert_eq!((r.code(), r.status()), (code, status));
            assert!(!r.message().is_empty());
        }
    }

    #[test]
    fn api_errors_keep_their_shape_on_the_wire() {
        let body = serde_json::to_value(ApiError::from(Refusal::InvalidLink)).unwrap();
        assert_eq!(body["error"], "invalid_link");
        assert!(body.get("fields").is_none(), "no empty fields: {body}");
        let invalid = ApiError::from(AppError::field("password", "Too short."));
        let body = serde_json::to_value(&invalid).unwrap();
        assert_eq!(body["error"], "validation");
        assert_eq!(body["fields"]["password"][0], "Too short.");
        assert_eq!(serde_json::from_value::<ApiError>(body).unwrap(), invalid);
    }
}
