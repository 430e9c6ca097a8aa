//! `AppError`: the one error every server function returns. It crosses the wire as
//! JSON, so the UI can put a validation message beside its field and send an
//! unauthorised caller to the sign-in page.

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

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
