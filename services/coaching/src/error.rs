//! Why a coaching call failed. The service refuses only in the suite's
//! shared vocabulary ([`CallError`]), so it has no refusals of its own; the
//! messages are its own, and it words refused text as whole sentences (see
//! `domain::text`).

use std::convert::Infallible;

use pulse_service::CallError;

/// A refused or failed call. Every variant except `Storage` carries a text
/// for users: the gateway shows it as-is ("Not authorized to assign goals to
/// this client").
pub type CoachingError = CallError<Infallible>;

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
