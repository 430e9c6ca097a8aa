//! `ServiceError`: what services return, and how it becomes the wire `AppError`.

use sea_orm::DbErr;

use crate::domain::{AppError, FieldErrors};

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
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(FieldErrors::from([(
            field.to_string(),
            vec![message.into()],
        )]))
    }
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Unauthorized => AppError::Unauthorized,
            ServiceError::Forbidden(p) => AppError::Forbidden(p),
            ServiceError::PasswordChangeRequired => AppError::PasswordChangeRequired,
            ServiceError::NotFound(what) => AppError::NotFound(what),
            ServiceError::Validation(errors) => AppError::Validation(errors),
            ServiceError::Conflict(msg) => AppError::Conflict(msg),
            other => {
                let reference = format!("ref {:08x}", rand::random::<u32>());
                tracing::error!(error = ?other, %reference, "internal error");
                AppError::Internal(reference)
            }
        }
    }
}
