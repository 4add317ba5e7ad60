//! Rows as the queries return them, and their conversion into domain values.
//! Kept apart from the domain so `sqlx` stays out of it. Money columns are
//! read as whole micro-units (`(x * 1000000)::int8`), which is exact for
//! NUMERIC(18,6).

use chrono::{DateTime, Utc};
use pulse_service::StorageError;
use uuid::Uuid;

use crate::domain::{KeyStatus, Money, Named, Task, TaskKind, TaskStatus, VirtualKey};
use crate::TasksError;

/// `sqlx::query_as!` for [`KeyRow`]s: `$before` (`SELECT`, or a write
/// ending in `RETURNING`), a key's columns (never the hash; money in
/// micro-units), then `$after`. A macro because the checked query must be
/// one literal, and the columns are the same for the six queries that read
/// keys.
macro_rules! query_keys {
    ($before:literal, $after:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            $crate::store::rows::KeyRow,
            $before
                + r#" id, name, key_prefix, status,
                     (budget * 1000000)::int8 AS budget_micros,
                     (current_spend * 1000000)::int8 AS "current_spend_micros!",
                     created_at, revoked_at "#
                + $after
            $(, $arg)*
        )
    };
}
pub(super) use query_keys;

#[derive(Debug)]
pub(super) struct KeyRow {
    pub(super) id: Uuid,
    pub(super) name: String,
    pub(super) key_prefix: String,
    pub(super) status: String,
    pub(super) budget_micros: Option<i64>,
    pub(super) current_spend_micros: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<KeyRow> for VirtualKey {
    type Error = TasksError;

    fn try_from(row: KeyRow) -> Result<Self, TasksError> {
        Ok(Self {
            id: row.id,
            name: row.name,
            key_prefix: row.key_prefix,
            status: stored::<KeyStatus>("key status", &row.status)?,
            budget: row.budget_micros.map(Money::from_micros),
            current_spend: Money::from_micros(row.current_spend_micros),
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(Debug)]
pub(super) struct TaskRow {
    pub(super) id: Uuid,
    pub(super) virtual_key_id: Uuid,
    pub(super) kind: String,
    pub(super) task_type: String,
    pub(super) status: String,
    pub(super) percentage: i32,
    pub(super) message: Option<String>,
    pub(super) result: Option<String>,
    pub(super) error: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

impl TryFrom<TaskRow> for Task {
    type Error = TasksError;

    fn try_from(row: TaskRow) -> Result<Self, TasksError> {
        Ok(Self {
            id: row.id,
            virtual_key_id: row.virtual_key_id,
            kind: stored::<TaskKind>("task kind", &row.kind)?,
            task_type: row.task_type,
            status: stored::<TaskStatus>("task status", &row.status)?,
            percentage: row.percentage,
            message: row.message,
            result: row.result,
            error: row.error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Converts a list of rows, failing on the first that does not convert.
pub(super) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, TasksError>
where
    T: TryFrom<R, Error = TasksError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// A name column, which must be known.
fn stored<T: Named>(what: &str, raw: &str) -> Result<T, TasksError> {
    T::from_stored(raw).ok_or_else(|| StorageError::unknown_stored(what, raw).into())
}
