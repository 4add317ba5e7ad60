//! Rows as the queries return them, and their conversion into domain values.
//! Kept apart from the domain so `sqlx` stays out of it. Money columns are
//! read as whole micro-units (`(x * 1000000)::int8`), which is exact for
//! NUMERIC(18,6).

use chrono::{DateTime, Utc};
use pulse_service::StorageError;
use uuid::Uuid;

use crate::domain::{KeyStatus, Money, Named, Task, TaskKind, TaskStatus, VirtualKey};
use crate::TasksError;

/// The columns of a virtual key, for `SELECT` and `RETURNING`. Never the hash.
pub(super) const KEY_COLUMNS: &str = "id, name, key_prefix, status, \
     (budget * 1000000)::int8 AS budget_micros, \
     (current_spend * 1000000)::int8 AS current_spend_micros, \
     created_at, revoked_at";

/// The columns of a task.
pub(super) const TASK_COLUMNS: &str = "id, virtual_key_id, kind, task_type, status, percentage, \
     message, result, error, created_at, updated_at";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct KeyRow {
    id: Uuid,
    name: String,
    key_prefix: String,
    status: String,
    budget_micros: Option<i64>,
    current_spend_micros: i64,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
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

#[derive(Debug, sqlx::FromRow)]
pub(super) struct TaskRow {
    id: Uuid,
    virtual_key_id: Uuid,
    kind: String,
    task_type: String,
    status: String,
    percentage: i32,
    message: Option<String>,
    result: Option<String>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
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
