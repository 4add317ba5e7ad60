//! Why a coaching call failed, and the one place that sorts each cause into
//! the suite's vocabulary of refusals ([`ServiceError`]), which decides the
//! gRPC status; the messages are this service's own.

use pulse_service::{text::TextError, ServiceError, StorageError};

/// A refused or failed call. Every variant except [`CoachingError::Storage`]
/// carries a text for users: the gateway shows it as-is ("Not authorized
/// to assign goals to this client").
#[derive(Debug, thiserror::Error)]
pub enum CoachingError {
    /// The request is malformed or breaks a rule; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The message, relationship or goal does not exist, or is not the
    /// caller's to see.
    #[error("{0}")]
    NotFound(&'static str),
    /// The caller may not do this: wrong role, not their message or goal.
    #[error("{0}")]
    PermissionDenied(&'static str),
    /// The thing to create is already there (a second open relationship).
    #[error("{0}")]
    AlreadyExists(&'static str),
    /// The change does not fit the current state (accepting an invitation
    /// that is no longer pending, ending what has ended).
    #[error("{0}")]
    Precondition(&'static str),
    /// The database failed, is unavailable or lost a race with another
    /// transaction; what the caller is told (retry now, retry later, or
    /// "internal error") is decided in `pulse-service`, alike for every
    /// service.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

// `?` on queries and in gRPC handlers.
pulse_service::service_error_conversions!(CoachingError);

/// Text refused by `pulse_service::text`, in this service's own sentences
/// ("Title cannot be empty"), which its clients show as they are.
impl From<TextError> for CoachingError {
    fn from(error: TextError) -> Self {
        CoachingError::Invalid(match error {
            TextError::Empty { field } => format!("{field} cannot be empty"),
            TextError::TooLong { field, max } => format!("{field} cannot exceed {max} characters"),
            nul @ TextError::Nul { .. } => nul.to_string(),
        })
    }
}

/// Each cause in the suite's vocabulary: the kind (and with it the gRPC
/// code) is chosen here, the text stays this service's own.
impl From<CoachingError> for ServiceError {
    fn from(error: CoachingError) -> Self {
        match error {
            CoachingError::Invalid(message) => ServiceError::InvalidArgument(message),
            CoachingError::NotFound(message) => ServiceError::NotFound(message.into()),
            CoachingError::PermissionDenied(message) => {
                ServiceError::PermissionDenied(message.into())
            }
            CoachingError::AlreadyExists(message) => ServiceError::AlreadyExists(message.into()),
            CoachingError::Precondition(message) => {
                ServiceError::FailedPrecondition(message.into())
            }
            CoachingError::Storage(error) => ServiceError::Storage(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    #[test]
    fn refusals_keep_their_user_facing_text() {
        let status = Status::from(CoachingError::PermissionDenied(
            "Not authorized to assign goals to this client",
        ));
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(
            status.message(),
            "Not authorized to assign goals to this client"
        );
        let status = Status::from(CoachingError::Invalid("Message cannot be empty".into()));
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "Message cannot be empty")
        );
    }
}
