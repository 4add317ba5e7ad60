//! Why a shopping-list call failed, and the one place that decides what the
//! caller is told about it.

use tonic::Status;

/// A refused or failed call. Every variant except [`ListsError::Database`] is
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
    /// Lost a race with another transaction (deadlock or serialization
    /// failure); nothing was changed and a retry is expected to succeed.
    #[error("concurrent update, retry: {0}")]
    Contention(sqlx::Error),
    /// Anything else the database reported; a bug or an outage.
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for ListsError {
    fn from(error: sqlx::Error) -> Self {
        if pulse_service::is_contention(&error) {
            ListsError::Contention(error)
        } else {
            ListsError::Database(error)
        }
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
            ListsError::Contention(source) => {
                tracing::warn!(error = %source, "transaction lost a race");
                Status::aborted("concurrent update, please retry")
            }
            ListsError::Database(source) => {
                tracing::error!(error = %source, "database failure");
                Status::internal("internal error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn database_details_never_reach_the_caller() {
        let status = Status::from(ListsError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

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
