//! A session and the one-way life of its status.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::text;
use crate::{LeanCoffeeError, LeanCoffeeRefusal};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Scheduled,
    InProgress,
    Completed,
    Cancelled,
}

impl SessionStatus {
    const ALL: [SessionStatus; 4] = [
        SessionStatus::Scheduled,
        SessionStatus::InProgress,
        SessionStatus::Completed,
        SessionStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "Scheduled",
            SessionStatus::InProgress => "InProgress",
            SessionStatus::Completed => "Completed",
            SessionStatus::Cancelled => "Cancelled",
        }
    }

    /// A status as a client wrote it; case does not matter.
    pub fn parse(value: &str) -> Result<Self, LeanCoffeeError> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| {
                LeanCoffeeError::Invalid(
                    "status must be one of Scheduled, InProgress, Completed, Cancelled".into(),
                )
            })
    }

    /// A status as the database stores it (its CHECK allows nothing else).
    pub fn from_stored(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// Completed and Cancelled sessions are over: read-only from then on.
    pub fn is_closed(self) -> bool {
        matches!(self, SessionStatus::Completed | SessionStatus::Cancelled)
    }

    /// Scheduled → InProgress → Completed, or Scheduled / InProgress →
    /// Cancelled; nothing else, and nothing out of a closed session.
    fn check_transition(self, to: SessionStatus) -> Result<(), LeanCoffeeError> {
        use SessionStatus::{Cancelled, Completed, InProgress, Scheduled};
        let refusal = match (self, to) {
            (Scheduled, InProgress)
            | (InProgress, Completed)
            | (Scheduled | InProgress, Cancelled) => return Ok(()),
            (from, to) if from == to => format!("session is already {to}"),
            (from, _) if from.is_closed() => {
                format!("session is {from}: its status can no longer change")
            }
            (from, to) => format!("session cannot move from {from} to {to}"),
        };
        Err(LeanCoffeeError::Precondition(refusal))
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    /// The creator: the one who changes the session's status and may manage
    /// every topic.
    pub facilitator_id: Uuid,
    pub status: SessionStatus,
    pub scheduled_start_time: Option<DateTime<Utc>>,
    pub actual_start_time: Option<DateTime<Utc>>,
    pub actual_end_time: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Session {
    pub fn is_facilitator(&self, user_id: Uuid) -> bool {
        self.facilitator_id == user_id
    }

    pub fn require_facilitator(&self, user_id: Uuid) -> Result<(), LeanCoffeeError> {
        if self.is_facilitator(user_id) {
            Ok(())
        } else {
            Err(LeanCoffeeError::PermissionDenied(
                "only the facilitator can change the session status",
            ))
        }
    }

    /// Topics and votes may change only while the session is not over.
    pub fn require_open(&self) -> Result<(), LeanCoffeeError> {
        if self.status.is_closed() {
            Err(LeanCoffeeError::Own(LeanCoffeeRefusal::SessionClosed(
                self.status,
            )))
        } else {
            Ok(())
        }
    }

    /// The session after moving to `to` at `now`. The start and end times are
    /// set by the first move into InProgress and Completed and never again.
    pub fn moved_to(
        &self,
        to: SessionStatus,
        now: DateTime<Utc>,
    ) -> Result<Session, LeanCoffeeError> {
        self.status.check_transition(to)?;
        let mut moved = self.clone();
        moved.status = to;
        if to == SessionStatus::InProgress {
            moved.actual_start_time = moved.actual_start_time.or(Some(now));
        }
        if to == SessionStatus::Completed {
            moved.actual_end_time = moved.actual_end_time.or(Some(now));
        }
        Ok(moved)
    }
}

/// A validated `CreateSession`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    pub title: String,
    pub description: Option<String>,
    pub scheduled_start_time: Option<DateTime<Utc>>,
}

impl NewSession {
    pub fn new(
        title: &str,
        description: Option<String>,
        scheduled_start_time: Option<&str>,
    ) -> Result<Self, LeanCoffeeError> {
        let scheduled_start_time = scheduled_start_time
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(|value| {
                DateTime::parse_from_rfc3339(value)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|_| {
                        LeanCoffeeError::Invalid(
                            "scheduledStartTime must be an RFC 3339 timestamp".into(),
                        )
                    })
            })
            .transpose()?;
        Ok(Self {
            title: text::title("title", title)?,
            description: text::description(description)?,
            scheduled_start_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionStatus::{Cancelled, Completed, InProgress, Scheduled};

    fn session(status: SessionStatus) -> Session {
        Session {
            id: Uuid::new_v4(),
            title: "Retro".into(),
            description: None,
            facilitator_id: Uuid::new_v4(),
            status,
            scheduled_start_time: None,
            actual_start_time: None,
            actual_end_time: None,
            created_at: Utc::now(),
        }
    }

    fn refusal(result: Result<Session, LeanCoffeeError>) -> String {
        match result {
            Err(LeanCoffeeError::Precondition(message)) => message,
            other => panic!("expected Precondition, got {other:?}"),
        }
    }

    #[test]
    fn a_session_runs_from_scheduled_to_completed_setting_each_time_once() {
        let start = Utc::now();
        let started = session(Scheduled)
            .moved_to(InProgress, start)
            .expect("starts");
        assert_eq!(started.actual_start_time, Some(start));
        let end = start + chrono::Duration::minutes(30);
        let done = started.moved_to(Completed, end).expect("completes");
        assert_eq!(
            (done.actual_start_time, done.actual_end_time),
            (Some(start), Some(end))
        );
    }

    #[test]
    fn scheduled_and_running_sessions_can_be_cancelled() {
        for status in [Scheduled, InProgress] {
            let cancelled = session(status)
                .moved_to(Cancelled, Utc::now())
                .expect("cancels");
            assert_eq!(cancelled.status, Cancelled);
            assert_eq!(cancelled.actual_end_time, None);
        }
    }

    #[test]
    fn every_other_move_is_refused_with_a_reason() {
        let now = Utc::now();
        assert_eq!(
            refusal(session(Scheduled).moved_to(Completed, now)),
            "session cannot move from Scheduled to Completed"
        );
        assert_eq!(
            refusal(session(InProgress).moved_to(Scheduled, now)),
            "session cannot move from InProgress to Scheduled"
        );
        assert_eq!(
            refusal(session(InProgress).moved_to(InProgress, now)),
            "session is already InProgress"
        );
        for closed in [Completed, Cancelled] {
            for to in [Scheduled, InProgress] {
                assert_eq!(
                    refusal(session(closed).moved_to(to, now)),
                    format!("session is {closed}: its status can no longer change")
                );
            }
        }
    }

    #[test]
    fn closed_sessions_take_no_more_topics_or_votes() {
        assert!(session(Scheduled).require_open().is_ok());
        assert!(session(InProgress).require_open().is_ok());
        for closed in [Completed, Cancelled] {
            assert!(matches!(
                session(closed).require_open(),
                Err(LeanCoffeeError::Own(LeanCoffeeRefusal::SessionClosed(status))) if status == closed
            ));
        }
    }

    #[test]
    fn status_names_are_case_insensitive_and_unknown_ones_refused() {
        assert_eq!(SessionStatus::parse("inprogress").ok(), Some(InProgress));
        assert!(matches!(
            SessionStatus::parse("Started"),
            Err(LeanCoffeeError::Invalid(_))
        ));
    }

    #[test]
    fn scheduled_start_time_must_be_rfc_3339() {
        let new = NewSession::new("Retro", None, Some("2030-01-02T03:04:05+01:00")).expect("valid");
        assert_eq!(
            new.scheduled_start_time.map(|at| at.to_rfc3339()),
            Some("2030-01-02T02:04:05+00:00".into())
        );
        assert!(matches!(
            NewSession::new("Retro", None, Some("tomorrow")),
            Err(LeanCoffeeError::Invalid(message)) if message == "scheduledStartTime must be an RFC 3339 timestamp"
        ));
    }
}
