//! Why a task-notification call failed. The service refuses only in the
//! suite's shared vocabulary ([`CallError`]: no credential, invalid, not
//! found, or the database), so it has no refusals of its own; the messages
//! are its own.

use std::convert::Infallible;

use pulse_service::CallError;

/// A refused or failed call: every variant except `Storage` carries a text
/// that is safe to show as-is ("percentage must be between 0 and 100").
pub type TasksError = CallError<Infallible>;

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
