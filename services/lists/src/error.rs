//! Why a shopping-list call failed, and the one place that decides what the
//! caller is told about it.

use pulse_service::StorageError;
use tonic::Status;

/// A refused or failed call. Every variant except [`ListsError::Storage`] is
/// the caller's to see: its text is safe and specific ("name must not be
/// empty"); database details are logged and never returned.
#[derive(Debug, thiserror::Error)]
pub enum ListsError {
    /// The request is malformed or breaks a rule; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The list, item, collaborator, user or presence does not exist (for this
    /// list). The text names what is missing.
    #[error("{0}")]
    NotFound(&'static str),
    /// The caller has no access to the list, or not enough for this call.
    #[error("{0}")]
    PermissionDenied(&'static str),
    /// The thing to create is already there (a collaborator shared twice).
    #[error("{0}")]
    AlreadyExists(&'static str),
    /// Archived lists are read-only for items until restored.
    #[error("list is archived")]
    Archived,
    /// The database failed, is unavailable or lost a race with another
    /// transaction; what the caller is told (retry now, retry later, or
    /// "internal error") is decided in `pulse-service`, alike for every
    /// service.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ListsError {
    /// What a caller is told when a queue's worker is gone: the service is
    /// stopping.
    pub(crate) fn stopping() -> Self {
        ListsError::Storage(sqlx::Error::PoolClosed.into())
    }
}

/// So `?` works on queries; [`StorageError`] tells a lost race from any
/// other failure.
impl From<sqlx::Error> for ListsError {
    fn from(error: sqlx::Error) -> Self {
        ListsError::Storage(error.into())
    }
}

impl From<ListsError> for Status {
    fn from(error: ListsError) -> Self {
        match error {
            ListsError::Invalid(message) => Status::invalid_argument(message),
            ListsError::NotFound(message) => Status::not_found(message),
            ListsError::PermissionDenied(message) => Status::permission_denied(message),
            ListsError::AlreadyExists(message) => Status::already_exists(message),
            ListsError::Archived => Status::failed_precondition(error.to_string()),
            ListsError::Storage(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn archived_list_is_a_failed_precondition() {
        let status = Status::from(ListsError::Archived);
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.message(), "list is archived");
    }

    #[test]
    fn validation_message_is_returned_verbatim() {
        let status = Status::from(ListsError::Invalid("name must not be empty".into()));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "name must not be empty");
    }
}
