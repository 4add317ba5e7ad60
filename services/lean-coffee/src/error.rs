//! Why a Lean Coffee call failed: the suite's shared refusals
//! ([`CallError`]) and the one only this service gives, a closed session,
//! which is sorted into the suite's vocabulary here; the messages are this
//! service's own.

use pulse_service::{CallError, Refusals, ServiceError};

use crate::domain::SessionStatus;

/// A refused or failed call. Every variant except `Storage` is the caller's
/// to see: its text is safe and specific ("title must not be empty");
/// database details are logged and never returned.
pub type LeanCoffeeError = CallError<LeanCoffeeRefusal>;

/// What only Lean Coffee refuses.
#[derive(Debug, thiserror::Error)]
pub enum LeanCoffeeRefusal {
    /// A Completed or Cancelled session takes no more topics or votes.
    #[error("session is {}: topics and votes can no longer change", .0.as_str())]
    SessionClosed(SessionStatus),
}

impl Refusals for LeanCoffeeRefusal {}

/// The kind (and with it the gRPC code) of each: the change does not fit
/// the session's state.
impl From<LeanCoffeeRefusal> for ServiceError {
    fn from(refusal: LeanCoffeeRefusal) -> Self {
        match refusal {
            LeanCoffeeRefusal::SessionClosed(_) => {
                ServiceError::FailedPrecondition(refusal.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    #[test]
    fn closed_session_is_a_failed_precondition_naming_its_status() {
        let status = Status::from(LeanCoffeeError::Own(LeanCoffeeRefusal::SessionClosed(
            SessionStatus::Completed,
        )));
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
