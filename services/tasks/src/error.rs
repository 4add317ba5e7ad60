//! Why a task-notification call failed, and the one place that sorts each cause into
//! the suite's vocabulary of refusals ([`ServiceError`]), which decides the
//! gRPC status; the messages are this service's own.

use pulse_service::{text::TextError, ServiceError, StorageError};

/// A refused or failed call. Every variant except [`TasksError::Storage`]
/// carries a text that is safe to show as-is ("percentage must be between 0
/// and 100"); database details are logged and never returned.
#[derive(Debug, thiserror::Error)]
pub enum TasksError {
    /// No usable credential: no bearer, a wrong master key, an unknown or
    /// revoked virtual key. The text says which, never what was expected.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The request is malformed or breaks a rule; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The virtual key or task does not exist, or is not the caller's.
    #[error("{0}")]
    NotFound(&'static str),
    /// The database failed, is unavailable or lost a race with another
    /// transaction; what the caller is told (retry now, retry later, or
    /// "internal error") is decided in `pulse-service`, alike for every
    /// service.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

// `?` on queries and in gRPC handlers.
pulse_service::service_error_conversions!(TasksError);

/// Text refused by `pulse_service::text`, in the suite's wording ("name
/// must not be empty").
impl From<TextError> for TasksError {
    fn from(error: TextError) -> Self {
        TasksError::Invalid(error.to_string())
    }
}

/// Each cause in the suite's vocabulary: the kind (and with it the gRPC
/// code) is chosen here, the text stays this service's own.
impl From<TasksError> for ServiceError {
    fn from(error: TasksError) -> Self {
        match error {
            TasksError::Unauthenticated(message) => ServiceError::Unauthenticated(message.into()),
            TasksError::Invalid(message) => ServiceError::InvalidArgument(message),
            TasksError::NotFound(message) => ServiceError::NotFound(message.into()),
            TasksError::Storage(error) => ServiceError::Storage(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    #[test]
    fn refusals_keep_their_text() {
        let status = Status::from(TasksError::Unauthenticated("virtual key revoked"));
        assert_eq!(
            (status.code(), status.message()),
            (Code::Unauthenticated, "virtual key revoked")
        );
        let status = Status::from(TasksError::Invalid("name must not be empty".into()));
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "name must not be empty")
        );
    }
}
