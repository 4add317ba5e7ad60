//! Notifications: short messages for one user, sent by internal services
//! (and by this service when a trainer invites a client).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{text, Caller, Invitation};
use crate::CoachingError;

/// Longest kind, in characters.
pub const KIND_MAX: usize = 100;
/// Longest title.
pub const TITLE_MAX: usize = 200;
/// Longest body.
pub const BODY_MAX: usize = 4000;

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub user_id: Uuid,
    /// What it is about, e.g. "RelationshipInvited".
    pub kind: String,
    pub title: String,
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A validated notification to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: Option<String>,
}

impl NewNotification {
    /// Kind and title are trimmed and required; a blank body means none.
    pub fn new(
        user_id: Uuid,
        kind: &str,
        title: &str,
        body: Option<String>,
    ) -> Result<Self, CoachingError> {
        Ok(Self {
            user_id,
            kind: text::required("Kind", kind, KIND_MAX)?,
            title: text::required("Title", title, TITLE_MAX)?,
            body: text::optional("Body", body, BODY_MAX)?,
        })
    }

    /// What the invited client is told, naming the trainer when their token
    /// has a name.
    pub fn invited(trainer: &Caller, invitation: &Invitation) -> Self {
        let who = match trainer.name.trim() {
            "" => "A trainer".to_owned(),
            name => name.to_owned(),
        };
        Self {
            user_id: invitation.client_id,
            kind: "RelationshipInvited".into(),
            title: "New coaching invitation".into(),
            body: Some(format!("{who} invited you to be their client")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_title_are_required_and_a_blank_body_is_none() {
        let user = Uuid::new_v4();
        let new = NewNotification::new(user, " Announcement ", " Hello ", Some(" ".into()))
            .expect("valid");
        assert_eq!(
            (new.kind.as_str(), new.title.as_str(), new.body),
            ("Announcement", "Hello", None)
        );
        assert!(matches!(
            NewNotification::new(user, "Announcement", " ", None),
            Err(CoachingError::Invalid(message)) if message == "Title cannot be empty"
        ));
        assert!(matches!(
            NewNotification::new(user, "", "Hello", None),
            Err(CoachingError::Invalid(message)) if message == "Kind cannot be empty"
        ));
    }

    #[test]
    fn an_invitation_notice_names_the_trainer_if_known() {
        let mut trainer = Caller {
            id: Uuid::new_v4(),
            name: "Tess".into(),
            is_trainer: true,
            is_internal: false,
        };
        let invitation = Invitation::new(&trainer, Uuid::new_v4(), false).expect("valid");
        let notice = NewNotification::invited(&trainer, &invitation);
        assert_eq!(notice.user_id, invitation.client_id);
        assert_eq!(notice.kind, "RelationshipInvited");
        assert_eq!(
            notice.body.as_deref(),
            Some("Tess invited you to be their client")
        );
        trainer.name = String::new();
        assert_eq!(
            NewNotification::invited(&trainer, &invitation)
                .body
                .as_deref(),
            Some("A trainer invited you to be their client")
        );
    }
}
