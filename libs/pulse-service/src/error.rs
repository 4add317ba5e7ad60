//! The one vocabulary of refusals every service answers in, and the one
//! place it becomes a gRPC status.

use std::convert::Infallible;

use tonic::Status;

use crate::storage::{StorageError, UNAVAILABLE};
use crate::text::TextError;
use crate::violated_constraint;

/// What a service tells its caller about a failed call. Each service keeps
/// its own error enum, naming its own causes and wording its own messages,
/// and converts it into this in one exhaustive match; the status code of
/// each kind is decided here, once, so the same kind of refusal has the same
/// code in every service, and database details can only reach the caller
/// through [`ServiceError::Storage`], which never shows them.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No usable credential (`UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// The request is malformed or breaks a rule; nothing was changed
    /// (`INVALID_ARGUMENT`).
    #[error("{0}")]
    InvalidArgument(String),
    /// What the request names does not exist, or is not the caller's to see
    /// (`NOT_FOUND`).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this (`PERMISSION_DENIED`).
    #[error("{0}")]
    PermissionDenied(String),
    /// The thing to create is already there (`ALREADY_EXISTS`).
    #[error("{0}")]
    AlreadyExists(String),
    /// The change does not fit the current state (`FAILED_PRECONDITION`).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The database, not the request, is why the call failed: a lost race
    /// (`ABORTED`, retry now), an outage (`UNAVAILABLE`, retry later) or
    /// anything else (`INTERNAL`). The text is fixed; the details are
    /// logged here.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Unauthenticated(message) => Status::unauthenticated(message),
            ServiceError::InvalidArgument(message) => Status::invalid_argument(message),
            ServiceError::NotFound(message) => Status::not_found(message),
            ServiceError::PermissionDenied(message) => Status::permission_denied(message),
            ServiceError::AlreadyExists(message) => Status::already_exists(message),
            ServiceError::FailedPrecondition(message) => Status::failed_precondition(message),
            ServiceError::Storage(StorageError::Contention(source)) => {
                tracing::warn!(error = %source, "transaction lost a race");
                Status::aborted("concurrent update, please retry")
            }
            ServiceError::Storage(StorageError::Unavailable(source)) => {
                tracing::warn!(error = %source, "database unavailable");
                Status::unavailable(UNAVAILABLE)
            }
            ServiceError::Storage(StorageError::Database(source)) => {
                tracing::error!(error = %source, "database failure");
                Status::internal("internal error")
            }
        }
    }
}

/// Why a call of a service failed: a refusal every service can give, in
/// the service's own words; one of the service's own refusals (`R`); or the
/// database. Each service names it (`pub type ListsError =
/// CallError<ListsRefusal>`), so the shared variants, and their one
/// exhaustive mapping into [`ServiceError`], are written once, here, and a
/// service declares only what is its own. Every variant except
/// [`CallError::Storage`] is the caller's to see: its text is safe and
/// specific ("name must not be empty"); database details are logged and
/// never returned.
#[derive(Debug, thiserror::Error)]
pub enum CallError<R> {
    /// No usable credential: no bearer, a wrong master key, an unknown or
    /// revoked virtual key. The text says which, never what was expected.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The request is malformed or breaks a rule; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// What the request names does not exist, or is not the caller's to
    /// see. The text names what is missing.
    #[error("{0}")]
    NotFound(&'static str),
    /// The caller may not do this: wrong role, not theirs, not enough
    /// access.
    #[error("{0}")]
    PermissionDenied(&'static str),
    /// The thing to create is already there (a second vote, a collaborator
    /// shared twice).
    #[error("{0}")]
    AlreadyExists(&'static str),
    /// The change does not fit the current state (a status transition the
    /// rules do not allow, a status the entity already has).
    #[error("{0}")]
    Precondition(String),
    /// A refusal only this service gives, sorted into the vocabulary by the
    /// service ([`Refusals`]).
    #[error(transparent)]
    Own(R),
    /// The database failed, is unavailable or lost a race with another
    /// transaction; what the caller is told (retry now, retry later, or
    /// "internal error") is decided by [`StorageError`], alike for every
    /// service.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A service's own refusals, beside the shared ones of [`CallError`]: each
/// sorted into the vocabulary by its `Into<ServiceError>` (the kind, and with
/// it the gRPC code, is the service's choice; the text is its own). A
/// service with none uses [`Infallible`].
pub trait Refusals: Sized + Into<ServiceError> {
    /// The refusal for a request that collided with unique or foreign key
    /// `constraint` after the service checked (two calls racing past the
    /// same check): the one the check gives, so the loser hears what it
    /// would have heard a moment later, not "internal error" (see
    /// [`crate::violated_constraint`]). `None`, the default, leaves the
    /// failure to [`StorageError`].
    fn on_constraint(_constraint: &str) -> Option<CallError<Self>> {
        None
    }
}

/// No refusals of its own: the service answers in the shared ones only.
impl Refusals for Infallible {}

impl From<Infallible> for ServiceError {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// Each shared refusal in the suite's vocabulary; the service's own sorted
/// by the service.
impl<R: Refusals> From<CallError<R>> for ServiceError {
    fn from(error: CallError<R>) -> Self {
        match error {
            CallError::Unauthenticated(message) => ServiceError::Unauthenticated(message.into()),
            CallError::Invalid(message) => ServiceError::InvalidArgument(message),
            CallError::NotFound(message) => ServiceError::NotFound(message.into()),
            CallError::PermissionDenied(message) => ServiceError::PermissionDenied(message.into()),
            CallError::AlreadyExists(message) => ServiceError::AlreadyExists(message.into()),
            CallError::Precondition(message) => ServiceError::FailedPrecondition(message),
            CallError::Own(refusal) => refusal.into(),
            CallError::Storage(error) => ServiceError::Storage(error),
        }
    }
}

/// `?` in a gRPC handler.
impl<R: Refusals> From<CallError<R>> for Status {
    fn from(error: CallError<R>) -> Self {
        ServiceError::from(error).into()
    }
}

/// `?` on a query: a collision the service names ([`Refusals::on_constraint`])
/// is its refusal, anything else a [`StorageError`].
impl<R: Refusals> From<sqlx::Error> for CallError<R> {
    fn from(error: sqlx::Error) -> Self {
        violated_constraint(&error)
            .and_then(R::on_constraint)
            .unwrap_or_else(|| CallError::Storage(error.into()))
    }
}

/// Text refused by [`crate::text`], in the suite's wording ("name must not be
/// empty"). A service that words it otherwise maps the [`TextError`] itself.
impl<R> From<TextError> for CallError<R> {
    fn from(error: TextError) -> Self {
        CallError::Invalid(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn each_refusal_keeps_its_text_under_its_own_code() {
        let refusals = [
            (
                ServiceError::Unauthenticated("no bearer".into()),
                Code::Unauthenticated,
            ),
            (
                ServiceError::InvalidArgument("name must not be empty".into()),
                Code::InvalidArgument,
            ),
            (
                ServiceError::NotFound("list not found".into()),
                Code::NotFound,
            ),
            (
                ServiceError::PermissionDenied("not the facilitator".into()),
                Code::PermissionDenied,
            ),
            (
                ServiceError::AlreadyExists("already shared".into()),
                Code::AlreadyExists,
            ),
            (
                ServiceError::FailedPrecondition("list is archived".into()),
                Code::FailedPrecondition,
            ),
        ];
        for (error, code) in refusals {
            let text = error.to_string();
            let status = Status::from(error);
            assert_eq!((status.code(), status.message()), (code, text.as_str()));
        }
    }

    #[test]
    fn a_database_failure_shows_no_detail() {
        let error = ServiceError::from(StorageError::from(sqlx::Error::Protocol(
            "SELECT secret FROM users".into(),
        )));
        let status = Status::from(error);
        assert_eq!(
            (status.code(), status.message()),
            (Code::Internal, "internal error")
        );
    }

    /// A service's own refusal, and the key it names for a collision.
    #[derive(Debug, thiserror::Error)]
    #[error("list is archived")]
    struct Archived;

    impl From<Archived> for ServiceError {
        fn from(refusal: Archived) -> Self {
            ServiceError::FailedPrecondition(refusal.to_string())
        }
    }

    impl Refusals for Archived {
        fn on_constraint(constraint: &str) -> Option<CallError<Self>> {
            (constraint == "collaborators_pkey").then_some(CallError::AlreadyExists("shared twice"))
        }
    }

    #[test]
    fn shared_and_own_refusals_keep_their_text_under_their_code() {
        let refusals: [(CallError<Archived>, Code); 4] = [
            (
                CallError::Unauthenticated("no bearer"),
                Code::Unauthenticated,
            ),
            (
                CallError::Invalid("name must not be empty".into()),
                Code::InvalidArgument,
            ),
            (
                CallError::Precondition("already Active".into()),
                Code::FailedPrecondition,
            ),
            (CallError::Own(Archived), Code::FailedPrecondition),
        ];
        for (error, code) in refusals {
            let text = error.to_string();
            let status = Status::from(error);
            assert_eq!((status.code(), status.message()), (code, text.as_str()));
        }
    }

    #[test]
    fn text_refusals_are_invalid_in_the_suites_wording() {
        let error = CallError::<Infallible>::from(TextError::Nul {
            field: "name".into(),
        });
        let status = Status::from(error);
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "name cannot contain NUL characters")
        );
    }

    #[test]
    fn a_failure_naming_no_key_is_left_to_storage() {
        let error = CallError::<Archived>::from(sqlx::Error::PoolClosed);
        assert!(matches!(error, CallError::Storage(_)), "{error:?}");
    }
}
