//! Why a shopping-list call failed, and the one place that sorts each cause into
//! the suite's vocabulary of refusals ([`ServiceError`]), which decides the
//! gRPC status; the messages are this service's own.

use pulse_service::{text::TextError, ServiceError, StorageError};

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

// `?` on queries and in gRPC handlers. Sharing checks under the list's lock
// that the user is not a collaborator yet; the key is the rule itself, so a
// row the check did not see (written by anything that skipped the lock) is
// refused with the same answer rather than "internal error".
pulse_service::service_error_conversions!(ListsError, constraints {
    "collaborators_pkey" => ListsError::AlreadyExists(ALREADY_COLLABORATOR),
});

/// Sharing with someone who already collaborates on the list.
pub(crate) const ALREADY_COLLABORATOR: &str = "user is already a collaborator";

/// Text refused by `pulse_service::text`, in the suite's wording ("name
/// must not be empty").
impl From<TextError> for ListsError {
    fn from(error: TextError) -> Self {
        ListsError::Invalid(error.to_string())
    }
}

/// Each cause in the suite's vocabulary: the kind (and with it the gRPC
/// code) is chosen here, the text stays this service's own.
impl From<ListsError> for ServiceError {
    fn from(error: ListsError) -> Self {
        match error {
            ListsError::Invalid(message) => ServiceError::InvalidArgument(message),
            ListsError::NotFound(message) => ServiceError::NotFound(message.into()),
            ListsError::PermissionDenied(message) => ServiceError::PermissionDenied(message.into()),
            ListsError::AlreadyExists(message) => ServiceError::AlreadyExists(message.into()),
            ListsError::Archived => ServiceError::FailedPrecondition(error.to_string()),
            ListsError::Storage(error) => ServiceError::Storage(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

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
