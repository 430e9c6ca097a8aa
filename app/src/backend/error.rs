//! `ServiceError`: what every service returns. The edge (`api::edge`) turns it into
//! the wire errors and their HTTP statuses; nothing here knows about either.

use sea_orm::DbErr;

use crate::domain::{FieldErrors, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not signed in")]
    Unauthorized,
    #[error("missing permission {0}")]
    Forbidden(String),
    #[error("the temporary password must be changed first")]
    PasswordChangeRequired,
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid input: {0:?}")]
    Validation(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    /// A managed user's own call refused (sign-in, token, link).
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ServiceError {
    /// A unique-constraint violation as a conflict the admin can act on (`message`);
    /// any other database error as it is.
    pub fn unique(err: DbErr, message: &str) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                ServiceError::Conflict(message.to_string())
            }
            _ => ServiceError::Db(err),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(FieldErrors::from([(
            field.to_string(),
            vec![message.into()],
        )]))
    }
}
