//! Database failures, sorted by what the caller can do about them, for when
//! the database, not the request, is why a call failed.

use crate::{database::is_unavailable, is_contention};

/// What a caller is told while the database is unavailable.
pub(crate) const UNAVAILABLE: &str = "service temporarily unavailable, please retry";

/// A database failure, sorted by what the caller can do about it. Every
/// service's error enum carries one (`Storage(#[from] StorageError)`) and
/// hands it on as [`crate::ServiceError::Storage`], so all services answer a lost
/// race or an outage with the same code and text.
///
/// No variant's details reach the caller: SQL, constraint and table
/// names are logged by [`crate::ServiceError`]'s mapping and replaced by a fixed
/// text.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Lost a race with another transaction (deadlock or serialization
    /// failure, see [`is_contention`]); nothing was changed and a retry is
    /// expected to succeed, so the caller is told to retry (`ABORTED`).
    #[error("concurrent update, retry: {0}")]
    Contention(sqlx::Error),
    /// The database cannot be reached or is not serving (see
    /// `is_unavailable`); the request itself may be fine, so the caller
    /// is told to retry later (`UNAVAILABLE`, gRPC's retryable code).
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// Anything else the database reported: a bug or a corrupted row
    /// (`INTERNAL`).
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl StorageError {
    /// A stored name (a status, a role, a permission) the code does not know.
    /// The table's CHECK constraint keeps such values out, so one showing up
    /// means a corrupted database, reported as a database failure.
    pub fn unknown_stored(what: &str, raw: &str) -> Self {
        StorageError::Database(sqlx::Error::Decode(
            format!("unknown stored {what} {raw:?}").into(),
        ))
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        if is_contention(&error) {
            StorageError::Contention(error)
        } else if is_unavailable(&error) {
            StorageError::Unavailable(error)
        } else {
            StorageError::Database(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, error::Error as StdError, fmt};

    use sqlx::error::{DatabaseError, ErrorKind};
    use tonic::{Code, Status};

    use super::*;
    use crate::ServiceError;

    /// A PostgreSQL error as the driver would report it: a code, and the
    /// constraint it names, if any.
    #[derive(Debug)]
    struct Postgres(&'static str, Option<&'static str>);

    impl fmt::Display for Postgres {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl StdError for Postgres {}

    impl DatabaseError for Postgres {
        fn message(&self) -> &str {
            "could not serialize access"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn constraint(&self) -> Option<&str> {
            self.1
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            match self.0 {
                "23505" => ErrorKind::UniqueViolation,
                "23503" => ErrorKind::ForeignKeyViolation,
                "23514" => ErrorKind::CheckViolation,
                _ => ErrorKind::Other,
            }
        }
    }

    fn status(error: sqlx::Error) -> Status {
        ServiceError::from(StorageError::from(error)).into()
    }

    #[test]
    fn database_details_never_reach_the_caller() {
        let status = status(sqlx::Error::Protocol("unexpected message 'Z'".into()));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn an_unreachable_or_refusing_database_is_unavailable_and_retryable() {
        let io = |kind| sqlx::Error::Io(std::io::Error::from(kind));
        let unreachable = [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            io(std::io::ErrorKind::ConnectionRefused),
            io(std::io::ErrorKind::ConnectionReset),
            io(std::io::ErrorKind::UnexpectedEof),
        ];
        let refusing = [
            "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001", "08004",
        ]
        .map(|code| sqlx::Error::Database(Box::new(Postgres(code, None))));
        for error in unreachable.into_iter().chain(refusing) {
            let shown = format!("{error:?}");
            let status = status(error);
            assert_eq!(status.code(), Code::Unavailable, "{shown}");
            assert_eq!(status.message(), UNAVAILABLE, "{shown}");
        }
    }

    #[test]
    fn lost_races_are_retryable() {
        for code in ["40001", "40P01"] {
            let status = status(sqlx::Error::Database(Box::new(Postgres(code, None))));
            assert_eq!(status.code(), Code::Aborted, "{code}");
            assert_eq!(status.message(), "concurrent update, please retry");
        }
        let other = status(sqlx::Error::Database(Box::new(Postgres("23505", None))));
        assert_eq!(other.code(), Code::Internal);
    }

    #[test]
    fn only_unique_and_foreign_key_violations_name_a_constraint_for_the_caller() {
        let error = |code, constraint| sqlx::Error::Database(Box::new(Postgres(code, constraint)));
        let unique = error("23505", Some("collaborators_pkey"));
        let foreign = error("23503", Some("items_list_id_fkey"));
        let check = error("23514", Some("items_quantity_check"));
        assert_eq!(
            crate::violated_constraint(&unique),
            Some("collaborators_pkey")
        );
        assert_eq!(
            crate::violated_constraint(&foreign),
            Some("items_list_id_fkey")
        );
        assert_eq!(crate::violated_constraint(&check), None);
        assert_eq!(crate::violated_constraint(&sqlx::Error::PoolClosed), None);
    }

    #[test]
    fn an_unknown_stored_name_is_an_internal_error_naming_it_in_the_log() {
        let error = StorageError::unknown_stored("session status", "Paused");
        assert_eq!(
            error.to_string(),
            "database: error occurred while decoding: unknown stored session status \"Paused\""
        );
        assert_eq!(
            Status::from(ServiceError::from(error)).message(),
            "internal error"
        );
    }
}
