//! Chat: messages between two users, read once by their recipient, deleted
//! only by their sender, and paged newest first.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{text, PageLimit};
use crate::CoachingError;

/// Longest message, in characters.
pub const MESSAGE_MAX: usize = 4000;

/// A stored message that has not been deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub id: Uuid,
    pub sender_id: Uuid,
    pub recipient_id: Uuid,
    /// The text exactly as sent.
    pub message: String,
    pub sent_at: DateTime<Utc>,
    /// Set once, when the recipient marks the message read.
    pub read_at: Option<DateTime<Utc>>,
}

impl ChatMessage {
    /// Read receipts are the recipient's.
    pub fn require_recipient(&self, user_id: Uuid) -> Result<(), CoachingError> {
        if self.recipient_id == user_id {
            Ok(())
        } else {
            Err(CoachingError::PermissionDenied(super::NOT_AUTHORIZED))
        }
    }

    /// Deleting is the sender's.
    pub fn require_sender(&self, user_id: Uuid) -> Result<(), CoachingError> {
        if self.sender_id == user_id {
            Ok(())
        } else {
            Err(CoachingError::PermissionDenied(super::NOT_AUTHORIZED))
        }
    }
}

/// A validated `SendMessage`. The text is kept as sent (leading and trailing
/// spaces included): only a text with nothing but whitespace is refused, and
/// the limit counts the characters that are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub sender_id: Uuid,
    pub recipient_id: Uuid,
    pub text: String,
}

impl NewMessage {
    pub fn new(sender_id: Uuid, recipient_id: Uuid, text: String) -> Result<Self, CoachingError> {
        if text.trim().is_empty() {
            return Err(CoachingError::Invalid("Message cannot be empty".into()));
        }
        text::check("Message", &text, MESSAGE_MAX)?;
        if sender_id == recipient_id {
            return Err(CoachingError::Invalid(
                "Cannot send a message to yourself".into(),
            ));
        }
        Ok(Self {
            sender_id,
            recipient_id,
            text,
        })
    }
}

/// The two users of a conversation in the order the conversations table
/// keeps them (smaller id first), so each pair has exactly one row.
pub fn pair(one: Uuid, other: Uuid) -> (Uuid, Uuid) {
    if one <= other {
        (one, other)
    } else {
        (other, one)
    }
}

/// A conversation as one of its users sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// The other user.
    pub user_id: Uuid,
    pub last_message: ChatMessage,
    /// Messages to the viewer not yet marked read.
    pub unread_count: u32,
}

/// One page of a conversation, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationPage {
    pub messages: Vec<ChatMessage>,
    /// The oldest message of this page when older ones exist: the `before`
    /// of the next page.
    pub next_before: Option<Uuid>,
}

impl ConversationPage {
    /// A page from up to `limit + 1` messages read newest first: the extra
    /// one only tells that there is more, and is not part of the page.
    pub fn from_fetched(mut fetched: Vec<ChatMessage>, limit: PageLimit) -> Self {
        let limit = usize::try_from(limit.get()).unwrap_or(usize::MAX);
        let more = fetched.len() > limit;
        fetched.truncate(limit);
        let next_before = if more {
            fetched.last().map(|message| message.id)
        } else {
            None
        };
        Self {
            messages: fetched,
            next_before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_testkit::invalid_message as refusal;

    fn message(sender_id: Uuid, recipient_id: Uuid) -> ChatMessage {
        ChatMessage {
            id: Uuid::new_v4(),
            sender_id,
            recipient_id,
            message: "Hi".into(),
            sent_at: Utc::now(),
            read_at: None,
        }
    }

    #[test]
    fn a_message_is_kept_as_sent() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let new = NewMessage::new(ann, bob, "  hello \n".into()).expect("valid");
        assert_eq!(new.text, "  hello \n");
    }

    #[test]
    fn blank_overlong_and_self_addressed_messages_are_refused() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(
            refusal(NewMessage::new(ann, bob, " \t\n".into())),
            "Message cannot be empty"
        );
        assert_eq!(
            refusal(NewMessage::new(ann, bob, "a".repeat(4001))),
            "Message cannot exceed 4000 characters"
        );
        assert_eq!(
            refusal(NewMessage::new(ann, ann, "hi".into())),
            "Cannot send a message to yourself"
        );
    }

    #[test]
    fn four_thousand_characters_are_fine_however_many_bytes() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(NewMessage::new(ann, bob, "é".repeat(4000)).is_ok());
    }

    #[test]
    fn a_pair_has_one_order_whoever_asks() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(pair(ann, bob), pair(bob, ann));
        let (low, high) = pair(ann, bob);
        assert!(low < high);
    }

    #[test]
    fn only_the_recipient_reads_and_only_the_sender_deletes() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let sent = message(ann, bob);
        assert!(sent.require_recipient(bob).is_ok());
        assert!(sent.require_sender(ann).is_ok());
        for refused in [sent.require_recipient(ann), sent.require_sender(bob)] {
            assert!(matches!(
                refused,
                Err(CoachingError::PermissionDenied("Not authorized"))
            ));
        }
    }

    #[test]
    fn a_page_points_to_the_next_only_when_more_was_fetched() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let limit = PageLimit::new(Some(2)).expect("valid");
        let three: Vec<_> = (0..3).map(|_| message(ann, bob)).collect();
        let page = ConversationPage::from_fetched(three.clone(), limit);
        assert_eq!(page.messages, three[..2]);
        assert_eq!(page.next_before, Some(three[1].id));
        let last = ConversationPage::from_fetched(three[..2].to_vec(), limit);
        assert_eq!(last.next_before, None);
    }
}
