//! A service's refusals as its unit tests check them: the domain and parsing
//! rules return a [`CallError`] without any gRPC around it, and the test
//! asserts the text the caller would be shown.

use std::fmt::Debug;

use pulse_service::CallError;

/// The text of an `Invalid` refusal; fails the test on a success or any
/// other error.
pub fn invalid_message<T: Debug, R: Debug>(result: Result<T, CallError<R>>) -> String {
    match result {
        Err(CallError::Invalid(message)) => message,
        other => panic!("expected Invalid, got {other:?}"),
    }
}
