//! Why a Lean Coffee call failed, and the one place that sorts each cause into
//! the suite's vocabulary of refusals ([`ServiceError`]), which decides the
//! gRPC status; the messages are this service's own.

use pulse_service::{text::TextError, ServiceError, StorageError};

use crate::domain::SessionStatus;

/// A refused or failed call. Every variant except [`LeanCoffeeError::Storage`]
/// is the caller's to see: its text is safe and specific ("title must not be
/// empty"); database details are logged and never returned.
#[derive(Debug, thiserror::Error)]
pub enum LeanCoffeeError {
    /// The request is malformed or breaks a rule; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The session, topic, vote or connection does not exist (in this
    /// session). The text names what is missing.
    #[error("{0}")]
    NotFound(&'static str),
    /// The caller may not do this: not the facilitator, not the author.
    #[error("{0}")]
    PermissionDenied(&'static str),
    /// The thing to create is already there (a second vote of one user).
    #[error("{0}")]
    AlreadyExists(&'static str),
    /// A Completed or Cancelled session takes no more topics or votes.
    #[error("session is {}: topics and votes can no longer change", .0.as_str())]
    SessionClosed(SessionStatus),
    /// The change does not fit the current state (a status transition the
    /// rules do not allow, a status the entity already has).
    #[error("{0}")]
    Precondition(String),
    /// The database failed, is unavailable or lost a race with another
    /// transaction; what the caller is told (retry now, retry later, or
    /// "internal error") is decided in `pulse-service`, alike for every
    /// service.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

// `?` on queries and in gRPC handlers.
pulse_service::service_error_conversions!(LeanCoffeeError);

/// Text refused by `pulse_service::text`, in the suite's wording ("name
/// must not be empty").
impl From<TextError> for LeanCoffeeError {
    fn from(error: TextError) -> Self {
        LeanCoffeeError::Invalid(error.to_string())
    }
}

/// Each cause in the suite's vocabulary: the kind (and with it the gRPC
/// code) is chosen here, the text stays this service's own.
impl From<LeanCoffeeError> for ServiceError {
    fn from(error: LeanCoffeeError) -> Self {
        match error {
            LeanCoffeeError::Invalid(message) => ServiceError::InvalidArgument(message),
            LeanCoffeeError::NotFound(message) => ServiceError::NotFound(message.into()),
            LeanCoffeeError::PermissionDenied(message) => {
                ServiceError::PermissionDenied(message.into())
            }
            LeanCoffeeError::AlreadyExists(message) => ServiceError::AlreadyExists(message.into()),
            LeanCoffeeError::SessionClosed(_) => {
                ServiceError::FailedPrecondition(error.to_string())
            }
            LeanCoffeeError::Precondition(message) => ServiceError::FailedPrecondition(message),
            LeanCoffeeError::Storage(error) => ServiceError::Storage(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    #[test]
    fn closed_session_is_a_failed_precondition_naming_its_status() {
        let status = Status::from(LeanCoffeeError::SessionClosed(SessionStatus::Completed));
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(
            status.message(),
            "session is Completed: topics and votes can no longer change"
        );
    }

    #[test]
    fn validation_message_is_returned_verbatim() {
        let status = Status::from(LeanCoffeeError::Invalid("title must not be empty".into()));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "title must not be empty");
    }
}
