//! Tasks and media requests, and how producer reports move them. Progress
//! only moves forward and a finished task never changes again, so reports
//! that arrive late, twice or out of order are ignored rather than refused:
//! workers may retry without checking first.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{text, Named};
use crate::TasksError;

/// What the work is; decides the group and the event names of its reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A generic task: `Task*` events to `task_{id}`.
    Task,
    /// A video generation request: `Video*` events to `video_{id}`.
    Video,
    /// An image generation request: `Image*` events to `image_{id}`.
    Image,
}

impl Named for TaskKind {
    const ALL: &'static [Self] = &[TaskKind::Task, TaskKind::Video, TaskKind::Image];

    fn as_str(self) -> &'static str {
        match self {
            TaskKind::Task => "Task",
            TaskKind::Video => "Video",
            TaskKind::Image => "Image",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    Running,
    Completed,
    Failed,
}

impl Named for TaskStatus {
    const ALL: &'static [Self] = &[
        TaskStatus::Pending,
        TaskStatus::Running,
        TaskStatus::Completed,
        TaskStatus::Failed,
    ];

    fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "Pending",
            TaskStatus::Running => "Running",
            TaskStatus::Completed => "Completed",
            TaskStatus::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: Uuid,
    pub virtual_key_id: Uuid,
    pub kind: TaskKind,
    pub task_type: String,
    pub status: TaskStatus,
    /// 0-100; never decreases.
    pub percentage: i32,
    /// The last progress report's message.
    pub message: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    pub fn is_finished(&self) -> bool {
        matches!(self.status, TaskStatus::Completed | TaskStatus::Failed)
    }

    /// The task after `report` at `now`, or `None` when the report changes
    /// nothing (then nothing is written and nothing is broadcast): any report
    /// on a finished task, a start of a task already running, progress not
    /// above the stored percentage.
    pub fn after(&self, report: &Report, now: DateTime<Utc>) -> Option<Task> {
        if self.is_finished() {
            return None;
        }
        let mut next = self.clone();
        next.updated_at = now;
        match report {
            Report::Started => {
                if self.status != TaskStatus::Pending {
                    return None;
                }
                next.status = TaskStatus::Running;
            }
            Report::Progress(progress) => {
                if progress.percentage <= self.percentage {
                    return None;
                }
                next.status = TaskStatus::Running;
                next.percentage = progress.percentage;
                next.message.clone_from(&progress.message);
            }
            Report::Completed { result } => {
                next.status = TaskStatus::Completed;
                next.percentage = 100;
                next.result.clone_from(result);
            }
            Report::Failed { error } => {
                next.status = TaskStatus::Failed;
                next.error = Some(error.clone());
            }
        }
        Some(next)
    }
}

/// A validated `CreateTask`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub kind: TaskKind,
    pub task_type: String,
}

impl NewTask {
    pub fn new(kind: &str, task_type: &str) -> Result<Self, TasksError> {
        Ok(Self {
            kind: TaskKind::parse("kind", kind)?,
            task_type: text::required("taskType", task_type, text::NAME_MAX)?,
        })
    }
}

/// A progress report: how far, and what to show the client meanwhile.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub percentage: i32,
    /// Free text for the event ("Rendering frames"); "Running" when absent.
    pub status: Option<String>,
    pub message: Option<String>,
}

impl Progress {
    pub fn new(
        percentage: i32,
        status: Option<&str>,
        message: Option<&str>,
    ) -> Result<Self, TasksError> {
        Ok(Self {
            percentage: text::percentage("percentage", percentage)?,
            status: text::optional("status", status, text::NAME_MAX)?,
            message: text::optional("message", message, text::TEXT_MAX)?,
        })
    }
}

/// What a producer reports about a task.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Started,
    Progress(Progress),
    /// A task may produce nothing, so the result may be absent.
    Completed {
        result: Option<String>,
    },
    /// A failure always says why: that is all the client gets.
    Failed {
        error: String,
    },
}

impl Report {
    pub fn completed(result: &str) -> Result<Self, TasksError> {
        Ok(Report::Completed {
            result: text::optional("result", Some(result), text::TEXT_MAX)?,
        })
    }

    pub fn failed(error: &str) -> Result<Self, TasksError> {
        Ok(Report::Failed {
            error: text::required("error", error, text::TEXT_MAX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: TaskStatus, percentage: i32) -> Task {
        Task {
            id: Uuid::new_v4(),
            virtual_key_id: Uuid::new_v4(),
            kind: TaskKind::Video,
            task_type: "video.generate".into(),
            status,
            percentage,
            message: None,
            result: None,
            error: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn progress(percentage: i32) -> Report {
        Report::Progress(Progress::new(percentage, None, Some("Rendering")).expect("valid"))
    }

    #[test]
    fn start_moves_only_a_pending_task() {
        let now = Utc::now();
        let started = task(TaskStatus::Pending, 0)
            .after(&Report::Started, now)
            .expect("starts");
        assert_eq!(
            (started.status, started.updated_at),
            (TaskStatus::Running, now)
        );
        assert_eq!(started.after(&Report::Started, now), None);
    }

    #[test]
    fn progress_only_moves_forward_and_starts_a_pending_task() {
        let now = Utc::now();
        let at_60 = task(TaskStatus::Pending, 0)
            .after(&progress(60), now)
            .expect("moves");
        assert_eq!(at_60.status, TaskStatus::Running);
        assert_eq!(
            (at_60.percentage, at_60.message.as_deref()),
            (60, Some("Rendering"))
        );
        assert_eq!(at_60.after(&progress(40), now), None);
        assert_eq!(at_60.after(&progress(60), now), None);
        assert_eq!(task(TaskStatus::Pending, 0).after(&progress(0), now), None);
    }

    #[test]
    fn finished_tasks_ignore_every_report() {
        let now = Utc::now();
        let completed = task(TaskStatus::Running, 10)
            .after(&Report::completed("https://cdn/v.mp4").expect("valid"), now)
            .expect("completes");
        assert_eq!(completed.status, TaskStatus::Completed);
        assert_eq!(completed.percentage, 100);
        let failed = task(TaskStatus::Running, 10)
            .after(&Report::failed("GPU lost").expect("valid"), now)
            .expect("fails");
        assert_eq!((failed.status, failed.percentage), (TaskStatus::Failed, 10));
        for finished in [completed, failed] {
            for report in [
                Report::Started,
                progress(99),
                Report::completed("again").expect("valid"),
                Report::failed("again").expect("valid"),
            ] {
                assert_eq!(finished.after(&report, now), None);
            }
        }
    }

    #[test]
    fn reports_are_validated() {
        assert!(matches!(
            Progress::new(101, None, None),
            Err(TasksError::Invalid(message)) if message == "percentage must be between 0 and 100"
        ));
        assert!(matches!(
            Report::failed(" "),
            Err(TasksError::Invalid(message)) if message == "error must not be empty"
        ));
        assert_eq!(
            Report::completed("").ok(),
            Some(Report::Completed { result: None })
        );
        assert!(matches!(
            NewTask::new("Task", ""),
            Err(TasksError::Invalid(message)) if message == "taskType must not be empty"
        ));
    }
}
