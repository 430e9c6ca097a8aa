//! The error edge: where a service's [`ServiceError`] becomes what crosses the wire
//! (an [`AppError`] for server functions and file routes, an [`ApiError`] for the
//! users' API) and its HTTP status. Nothing else converts them.

use axum::http::StatusCode;

use crate::backend::ServiceError;
use crate::domain::{ApiError, AppError};

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        if err.is_busy() {
            return AppError::Conflict(crate::backend::error::BUSY.into());
        }
        match err {
            ServiceError::Unauthorized => AppError::Unauthorized,
            ServiceError::Forbidden(p) => AppError::Forbidden(p),
            ServiceError::PasswordChangeRequired => AppError::PasswordChangeRequired,
            ServiceError::NotFound(what) => AppError::NotFound(what),
            ServiceError::Validation(errors) => AppError::Validation(errors),
            ServiceError::Conflict(msg) => AppError::Conflict(msg),
            ServiceError::Refused(r) => AppError::Conflict(r.message().to_string()),
            other => AppError::Internal(logged(&other)),
        }
    }
}

/// Logs an unexpected error with a reference the admin can quote, and returns it.
fn logged(err: &ServiceError) -> String {
    let reference = format!("ref {:08x}", rand::random::<u32>());
    tracing::error!(error = ?err, %reference, "internal error");
    reference
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A service error as a server function or file route answers it.
pub fn app_error(err: ServiceError) -> (StatusCode, AppError) {
    let err = AppError::from(err);
    (status(err.status()), err)
}

/// A service error as the users' API (`/api/v1/*`) answers it.
pub fn api_error(err: ServiceError) -> (StatusCode, ApiError) {
    match err {
        ServiceError::Refused(r) => (status(r.status()), r.into()),
        other => {
            let err = AppError::from(other);
            (status(err.status()), err.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Refusal;

    #[test]
    fn every_service_error_has_one_status() {
        let cases = [
            (ServiceError::Unauthorized, 401),
            (ServiceError::Forbidden("users.write".into()), 403),
            (ServiceError::PasswordChangeRequired, 403),
            (ServiceError::NotFound("User".into()), 404),
            (ServiceError::field("email", "Taken."), 422),
            (ServiceError::Conflict("Stale.".into()), 409),
            (ServiceError::Unexpected(anyhow::anyhow!("boom")), 500),
        ];
        for (err, code) in cases {
            assert_eq!(app_error(err).0.as_u16(), code);
        }
        let (status, body) = api_error(ServiceError::Refused(Refusal::InvalidLink));
        assert_eq!((status.as_u16(), body.code.as_str()), (410, "invalid_link"));
        let (status, body) = api_error(ServiceError::field("password", "Too short."));
        assert_eq!((status.as_u16(), body.code.as_str()), (422, "validation"));
        let (status, body) = api_error(ServiceError::Unexpected(anyhow::anyhow!("boom")));
        assert_eq!((status.as_u16(), body.code.as_str()), (500, "internal"));
        assert!(body.message.contains("ref "), "{}", body.message);
    }
}
