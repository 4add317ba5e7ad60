//! Topics: what participants propose to talk about, and who may change them.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{text, Session};
use crate::LeanCoffeeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicStatus {
    ToDiscuss,
    Discussing,
    Discussed,
    Archived,
}

impl TopicStatus {
    const ALL: [TopicStatus; 4] = [
        TopicStatus::ToDiscuss,
        TopicStatus::Discussing,
        TopicStatus::Discussed,
        TopicStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TopicStatus::ToDiscuss => "ToDiscuss",
            TopicStatus::Discussing => "Discussing",
            TopicStatus::Discussed => "Discussed",
            TopicStatus::Archived => "Archived",
        }
    }

    /// A status as a client wrote it; case does not matter.
    pub fn parse(value: &str) -> Result<Self, LeanCoffeeError> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| {
                LeanCoffeeError::Invalid(
                    "status must be one of ToDiscuss, Discussing, Discussed, Archived".into(),
                )
            })
    }

    /// A status as the database stores it (its CHECK allows nothing else).
    pub fn from_stored(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

impl fmt::Display for TopicStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub id: Uuid,
    pub session_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub author_id: Uuid,
    pub author_name: String,
    pub status: TopicStatus,
    /// Votes stored for the topic when it was read.
    pub vote_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A validated `AddTopic`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTopic {
    pub title: String,
    pub description: Option<String>,
}

impl NewTopic {
    pub fn new(title: &str, description: Option<String>) -> Result<Self, LeanCoffeeError> {
        Ok(Self {
            title: text::title("title", title)?,
            description: text::description(description)?,
        })
    }
}

/// A validated `EditTopic`: `None` leaves a field alone; a description of
/// `Some(None)` clears it (the client sent an empty string).
#[derive(Debug, Clone, PartialEq)]
pub struct TopicPatch {
    title: Option<String>,
    description: Option<Option<String>>,
}

impl TopicPatch {
    pub fn new(title: Option<&str>, description: Option<String>) -> Result<Self, LeanCoffeeError> {
        if title.is_none() && description.is_none() {
            return Err(LeanCoffeeError::Invalid(
                "nothing to change: give a title or a description".into(),
            ));
        }
        Ok(Self {
            title: title.map(|title| text::title("title", title)).transpose()?,
            description: description
                .map(|description| text::description(Some(description)))
                .transpose()?,
        })
    }

    /// `topic` with the patch applied, or `None` when that changes nothing
    /// (then nothing is written and no event is sent).
    pub fn apply(&self, topic: &Topic) -> Option<Topic> {
        let mut edited = topic.clone();
        if let Some(title) = &self.title {
            edited.title = title.clone();
        }
        if let Some(description) = &self.description {
            edited.description = description.clone();
        }
        (edited != *topic).then_some(edited)
    }
}

/// Editing, deleting and setting the status of a topic are for its author
/// and the session's facilitator.
pub fn require_topic_manager(
    session: &Session,
    topic: &Topic,
    user_id: Uuid,
) -> Result<(), LeanCoffeeError> {
    if topic.author_id == user_id || session.is_facilitator(user_id) {
        Ok(())
    } else {
        Err(LeanCoffeeError::PermissionDenied(
            "only the topic's author or the facilitator can change this topic",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SessionStatus;

    fn session(facilitator_id: Uuid) -> Session {
        Session {
            id: Uuid::new_v4(),
            title: "Retro".into(),
            description: None,
            facilitator_id,
            status: SessionStatus::InProgress,
            scheduled_start_time: None,
            actual_start_time: None,
            actual_end_time: None,
            created_at: Utc::now(),
        }
    }

    fn topic(author_id: Uuid) -> Topic {
        Topic {
            id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
            title: "Deploys".into(),
            description: Some("Why so slow?".into()),
            author_id,
            author_name: "Ann".into(),
            status: TopicStatus::ToDiscuss,
            vote_count: 0,
            created_at: Utc::now(),
            updated_at: None,
        }
    }

    #[test]
    fn author_and_facilitator_manage_a_topic_and_nobody_else() {
        let (facilitator, author, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (session, topic) = (session(facilitator), topic(author));
        assert!(require_topic_manager(&session, &topic, author).is_ok());
        assert!(require_topic_manager(&session, &topic, facilitator).is_ok());
        assert!(matches!(
            require_topic_manager(&session, &topic, other),
            Err(LeanCoffeeError::PermissionDenied(_))
        ));
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_may_clear_the_description() {
        let original = topic(Uuid::new_v4());
        let retitled = TopicPatch::new(Some("Releases"), None)
            .expect("valid")
            .apply(&original)
            .expect("changed");
        assert_eq!(
            (retitled.title.as_str(), retitled.description.as_deref()),
            ("Releases", Some("Why so slow?"))
        );
        let cleared = TopicPatch::new(None, Some(" ".into()))
            .expect("valid")
            .apply(&original)
            .expect("changed");
        assert_eq!(cleared.description, None);
    }

    #[test]
    fn a_patch_that_changes_nothing_yields_nothing() {
        let original = topic(Uuid::new_v4());
        let same = TopicPatch::new(Some(" Deploys "), None).expect("valid");
        assert_eq!(same.apply(&original), None);
    }

    #[test]
    fn an_empty_patch_is_refused() {
        assert!(matches!(
            TopicPatch::new(None, None),
            Err(LeanCoffeeError::Invalid(message)) if message == "nothing to change: give a title or a description"
        ));
    }

    #[test]
    fn topic_status_names_are_case_insensitive() {
        assert_eq!(
            TopicStatus::parse("discussing").ok(),
            Some(TopicStatus::Discussing)
        );
        assert!(TopicStatus::parse("Done").is_err());
    }
}
