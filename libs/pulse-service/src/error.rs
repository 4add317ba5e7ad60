//! The one vocabulary of refusals every service answers in, and the one
//! place it becomes a gRPC status.

use tonic::Status;

use crate::storage::{StorageError, UNAVAILABLE};

/// What a service tells its caller about a failed call. Each service keeps
/// its own error enum, naming its own causes and wording its own messages,
/// and converts it into this in one exhaustive match; the status code of
/// each kind is decided here, once, so the same kind of refusal has the same
/// code in every service, and database details can only reach the caller
/// through [`ServiceError::Storage`], which never shows them.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No usable credential (`UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// The request is malformed or breaks a rule; nothing was changed
    /// (`INVALID_ARGUMENT`).
    #[error("{0}")]
    InvalidArgument(String),
    /// What the request names does not exist, or is not the caller's to see
    /// (`NOT_FOUND`).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this (`PERMISSION_DENIED`).
    #[error("{0}")]
    PermissionDenied(String),
    /// The thing to create is already there (`ALREADY_EXISTS`).
    #[error("{0}")]
    AlreadyExists(String),
    /// The change does not fit the current state (`FAILED_PRECONDITION`).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The database, not the request, is why the call failed: a lost race
    /// (`ABORTED`, retry now), an outage (`UNAVAILABLE`, retry later) or
    /// anything else (`INTERNAL`). The text is fixed; the details are
    /// logged here.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Unauthenticated(message) => Status::unauthenticated(message),
            ServiceError::InvalidArgument(message) => Status::invalid_argument(message),
            ServiceError::NotFound(message) => Status::not_found(message),
            ServiceError::PermissionDenied(message) => Status::permission_denied(message),
            ServiceError::AlreadyExists(message) => Status::already_exists(message),
            ServiceError::FailedPrecondition(message) => Status::failed_precondition(message),
            ServiceError::Storage(StorageError::Contention(source)) => {
                tracing::warn!(error = %source, "transaction lost a race");
                Status::aborted("concurrent update, please retry")
            }
            ServiceError::Storage(StorageError::Unavailable(source)) => {
                tracing::warn!(error = %source, "database unavailable");
                Status::unavailable(UNAVAILABLE)
            }
            ServiceError::Storage(StorageError::Database(source)) => {
                tracing::error!(error = %source, "database failure");
                Status::internal("internal error")
            }
        }
    }
}

/// The two conversions every service's error enum `$error` needs besides
/// its own `From<$error> for ServiceError`: `?` on a query (`sqlx::Error`
/// into its `Storage(StorageError)` variant, sorted by [`StorageError`]),
/// and `?` in a gRPC handler (`$error` into `tonic::Status` by way of
/// [`ServiceError`]). A macro because both are conversions between another
/// crate's type and the service's: no blanket impl here may write them, and
/// four hand-written copies would drift. The service crate depends on
/// `sqlx` and `tonic` itself.
///
/// `constraints { "name" => refusal, ... }` lists the unique and foreign
/// keys a request can collide with after the service checked (two calls
/// racing past the same check), each with the refusal the check gives, so
/// the loser hears what it would have heard a moment later, not "internal
/// error" (see [`crate::violated_constraint`]).
#[macro_export]
macro_rules! service_error_conversions {
    ($error:ident) => {
        $crate::service_error_conversions!($error, constraints {});
    };
    ($error:ident, constraints { $($constraint:literal => $refusal:expr),* $(,)? }) => {
        impl ::std::convert::From<::sqlx::Error> for $error {
            fn from(error: ::sqlx::Error) -> Self {
                match $crate::violated_constraint(&error) {
                    $(Some($constraint) => $refusal,)*
                    _ => $error::Storage(error.into()),
                }
            }
        }

        impl ::std::convert::From<$error> for ::tonic::Status {
            fn from(error: $error) -> Self {
                $crate::ServiceError::from(error).into()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn each_refusal_keeps_its_text_under_its_own_code() {
        let refusals = [
            (
                ServiceError::Unauthenticated("no bearer".into()),
                Code::Unauthenticated,
            ),
            (
                ServiceError::InvalidArgument("name must not be empty".into()),
                Code::InvalidArgument,
            ),
            (
                ServiceError::NotFound("list not found".into()),
                Code::NotFound,
            ),
            (
                ServiceError::PermissionDenied("not the facilitator".into()),
                Code::PermissionDenied,
            ),
            (
                ServiceError::AlreadyExists("already shared".into()),
                Code::AlreadyExists,
            ),
            (
                ServiceError::FailedPrecondition("list is archived".into()),
                Code::FailedPrecondition,
            ),
        ];
        for (error, code) in refusals {
            let text = error.to_string();
            let status = Status::from(error);
            assert_eq!((status.code(), status.message()), (code, text.as_str()));
        }
    }

    #[test]
    fn a_database_failure_shows_no_detail() {
        let error = ServiceError::from(StorageError::from(sqlx::Error::Protocol(
            "SELECT secret FROM users".into(),
        )));
        let status = Status::from(error);
        assert_eq!(
            (status.code(), status.message()),
            (Code::Internal, "internal error")
        );
    }
}
