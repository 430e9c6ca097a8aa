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

/// What an admin reads when the database stayed busy past the wait ([`is_busy`]).
///
/// [`is_busy`]: super::db::is_busy
pub const BUSY: &str = "The database is busy with a long command (a bulk action or an import), so nothing was saved. Try again in a moment.";

impl ServiceError {
    /// Whether this is the database staying busy past the wait: a conflict to try
    /// again, not a server fault.
    pub fn is_busy(&self) -> bool {
        matches!(self, ServiceError::Db(e) if super::db::is_busy(e))
    }

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

    /// What a background job that failed with this error tells its admin: the
    /// refusal's own words, or `otherwise` for an unexpected error (logged with `job`).
    pub fn job_message(&self, job: &str, otherwise: &str) -> String {
        match self {
            ServiceError::Validation(fields) => fields
                .values()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" "),
            ServiceError::Conflict(m) => m.clone(),
            // The wire errors' own wording.
            ServiceError::Forbidden(p) => crate::domain::AppError::Forbidden(p.clone()).to_string(),
            ServiceError::NotFound(what) => {
                crate::domain::AppError::NotFound(what.clone()).to_string()
            }
            ServiceError::Refused(r) => r.message().to_string(),
            busy if busy.is_busy() => BUSY.to_string(),
            other => {
                tracing::error!(error = ?other, job, "a background job failed");
                otherwise.to_string()
            }
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(FieldErrors::from([(
            field.to_string(),
            vec![message.into()],
        )]))
    }
}
