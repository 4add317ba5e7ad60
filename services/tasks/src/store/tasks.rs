//! Tasks and media requests: created and read by their key's client,
//! moved by producer reports; and the key's navigation state.

use chrono::Utc;
use pulse_proto::tasks::NAVIGATION;
use uuid::Uuid;

use super::rows::{convert, TaskRow};
use super::{emit, Store};
use crate::domain::{Named, Navigation, NewTask, Report, Task, TaskKind, TaskStatus};
use crate::{events, TasksError};

const NOT_FOUND: TasksError = TasksError::NotFound("task not found");

impl Store {
    /// Creates a Pending task at 0 % owned by the key. No event: nobody can
    /// follow a task before it exists.
    pub(crate) async fn create_task(
        &self,
        virtual_key_id: Uuid,
        new: NewTask,
    ) -> Result<Task, TasksError> {
        let now = Utc::now();
        let row = sqlx::query_as!(
            TaskRow,
            "INSERT INTO tasks (id, virtual_key_id, kind, task_type, status, percentage, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6, $6)
             RETURNING id, virtual_key_id, kind, task_type, status, percentage, message, result, error, created_at, updated_at",
            Uuid::new_v4(),
            virtual_key_id,
            new.kind.as_str(),
            &new.task_type,
            TaskStatus::Pending.as_str(),
            now,
        )
        .fetch_one(self.outbox.pool())
        .await?;
        row.try_into()
    }

    /// One of the key's tasks; another key's task is as unknown as a
    /// missing one, so ids cannot be probed.
    pub(crate) async fn get_task(
        &self,
        virtual_key_id: Uuid,
        task_id: Uuid,
    ) -> Result<Task, TasksError> {
        let row = sqlx::query_as!(
            TaskRow,
            "SELECT id, virtual_key_id, kind, task_type, status, percentage, message, result, error, created_at, updated_at
             FROM tasks WHERE id = $1 AND virtual_key_id = $2",
            task_id,
            virtual_key_id,
        )
        .fetch_optional(self.outbox.pool())
        .await?;
        row.ok_or(NOT_FOUND)?.try_into()
    }

    /// The key's tasks (of one kind, if given), newest first.
    pub(crate) async fn list_tasks(
        &self,
        virtual_key_id: Uuid,
        kind: Option<TaskKind>,
    ) -> Result<Vec<Task>, TasksError> {
        let rows = sqlx::query_as!(
            TaskRow,
            "SELECT id, virtual_key_id, kind, task_type, status, percentage, message, result, error, created_at, updated_at
             FROM tasks
             WHERE virtual_key_id = $1 AND ($2::text IS NULL OR kind = $2)
             ORDER BY created_at DESC, id",
            virtual_key_id,
            kind.map(Named::as_str),
        )
        .fetch_all(self.outbox.pool())
        .await?;
        convert(rows)
    }

    /// Applies a producer's report under the task's row lock and emits its
    /// event. A report that changes nothing (finished task, progress not
    /// forward, second start) returns the task as stored, silently.
    pub(crate) async fn report_task(
        &self,
        task_id: Uuid,
        report: Report,
    ) -> Result<Task, TasksError> {
        let mut tx = self.outbox.begin().await?;
        let row = sqlx::query_as!(
            TaskRow,
            "SELECT id, virtual_key_id, kind, task_type, status, percentage, message, result, error, created_at, updated_at
             FROM tasks WHERE id = $1 FOR UPDATE",
            task_id,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let task = Task::try_from(row.ok_or(NOT_FOUND)?)?;
        let now = Utc::now();
        let Some(next) = task.after(&report, now) else {
            return Ok(task);
        };
        let row = sqlx::query_as!(
            TaskRow,
            "UPDATE tasks SET status = $2, percentage = $3, message = $4, result = $5, error = $6,
                 updated_at = $7
             WHERE id = $1
             RETURNING id, virtual_key_id, kind, task_type, status, percentage, message, result, error, created_at, updated_at",
            task_id,
            next.status.as_str(),
            next.percentage,
            next.message.as_deref(),
            next.result.as_deref(),
            next.error.as_deref(),
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let updated = Task::try_from(row)?;
        emit(
            &mut tx,
            events::task_topic(&updated),
            events::task_reported(&updated, &report, now),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Stores the key's navigation state and emits `NavigationUpdated` to the
    /// key's navigation group.
    pub(crate) async fn update_navigation(
        &self,
        virtual_key_id: Uuid,
        state: Navigation,
    ) -> Result<Navigation, TasksError> {
        let now = Utc::now();
        let mut tx = self.outbox.begin().await?;
        sqlx::query!(
            "INSERT INTO navigation_states (virtual_key_id, route, conversation_id, title, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (virtual_key_id) DO UPDATE
                 SET route = $2, conversation_id = $3, title = $4, updated_at = $5",
            virtual_key_id,
            &state.route,
            state.conversation_id.as_deref(),
            state.title.as_deref(),
            now,
        )
        .execute(&mut *tx)
        .await?;
        emit(
            &mut tx,
            NAVIGATION.topic(virtual_key_id),
            events::navigation_updated(virtual_key_id, &state, now),
        )
        .await?;
        tx.commit().await?;
        Ok(state)
    }
}
