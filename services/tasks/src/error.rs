//! Why a task-notification call failed, and the one place that decides what
//! the caller is told about it.

use pulse_service::StorageError;
use tonic::Status;

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

/// So `?` works on queries; [`StorageError`] tells a lost race from any
/// other failure.
impl From<sqlx::Error> for TasksError {
    fn from(error: sqlx::Error) -> Self {
        TasksError::Storage(error.into())
    }
}

impl From<TasksError> for Status {
    fn from(error: TasksError) -> Self {
        match error {
            TasksError::Unauthenticated(message) => Status::unauthenticated(message),
            TasksError::Invalid(message) => Status::invalid_argument(message),
            TasksError::NotFound(message) => Status::not_found(message),
            TasksError::Storage(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

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
