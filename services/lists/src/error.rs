//! Why a shopping-list call failed: the suite's shared refusals
//! ([`CallError`]) and the one only this service gives, an archived list,
//! which is sorted into the suite's vocabulary here; the messages are this
//! service's own.

use pulse_service::{CallError, Refusals, ServiceError};

/// A refused or failed call. Every variant except `Storage` is the caller's
/// to see: its text is safe and specific ("name must not be empty");
/// database details are logged and never returned.
pub type ListsError = CallError<ListsRefusal>;

/// What only the shopping-list service refuses.
#[derive(Debug, thiserror::Error)]
pub enum ListsRefusal {
    /// Archived lists are read-only for items until restored.
    #[error("list is archived")]
    Archived,
}

/// Sharing checks under the list's lock that the user is not a collaborator
/// yet; the key is the rule itself, so a row the check did not see (written
/// by anything that skipped the lock) is refused with the same answer rather
/// than "internal error".
impl Refusals for ListsRefusal {
    fn on_constraint(constraint: &str) -> Option<ListsError> {
        (constraint == "collaborators_pkey")
            .then_some(ListsError::AlreadyExists(ALREADY_COLLABORATOR))
    }
}

/// The kind (and with it the gRPC code) of each: the change does not fit
/// the list's state.
impl From<ListsRefusal> for ServiceError {
    fn from(refusal: ListsRefusal) -> Self {
        match refusal {
            ListsRefusal::Archived => ServiceError::FailedPrecondition(refusal.to_string()),
        }
    }
}

/// Sharing with someone who already collaborates on the list.
pub(crate) const ALREADY_COLLABORATOR: &str = "user is already a collaborator";

/// What a caller is told when a queue's worker is gone: the service is
/// stopping.
pub(crate) fn stopping() -> ListsError {
    ListsError::Storage(sqlx::Error::PoolClosed.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    #[test]
    fn archived_list_is_a_failed_precondition() {
        let status = Status::from(ListsError::Own(ListsRefusal::Archived));
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
