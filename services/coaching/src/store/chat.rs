//! Chat messages. A message is stored whether or not its recipient is
//! connected: history is read from here, the event only makes it live.

use chrono::{DateTime, Utc};
use pulse_proto::coaching::CHAT;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{all, ConversationRow, MessageRow};
use super::{emit, emit_to_both, Store};
use crate::domain::{pair, ChatMessage, Conversation, ConversationPage, NewMessage, PageLimit};
use crate::{events, CoachingError};

impl Store {
    /// Stores the message in the pair's conversation (created on the first
    /// message) and emits `ReceiveMessage` to the recipient.
    pub(crate) async fn send_message(&self, new: NewMessage) -> Result<ChatMessage, CoachingError> {
        let mut tx = self.outbox.begin().await?;
        let conversation_id = conversation(&mut tx, new.sender_id, new.recipient_id).await?;
        let row = sqlx::query_as!(
            MessageRow,
            "INSERT INTO chat_messages AS m (id, conversation_id, sender_id, recipient_id, message, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING m.id, m.sender_id, m.recipient_id, m.message, m.sent_at, m.read_at",
            Uuid::new_v4(),
            conversation_id,
            new.sender_id,
            new.recipient_id,
            &new.text,
            Utc::now(),
        )
        .fetch_one(&mut *tx)
        .await?;
        let message = ChatMessage::from(row);
        emit(
            &mut tx,
            CHAT.topic(message.recipient_id),
            events::receive_message(&message),
        )
        .await?;
        tx.commit().await?;
        Ok(message)
    }

    /// Sets `read_at` (recipient only) and emits `MessageRead` to the sender.
    /// The message row is locked first, so of several connections marking it
    /// at once the first reads it and the others, having waited, find it read
    /// and return it as stored: one `readAt`, one event.
    pub(crate) async fn mark_as_read(
        &self,
        user_id: Uuid,
        message_id: Uuid,
    ) -> Result<ChatMessage, CoachingError> {
        let mut tx = self.outbox.begin().await?;
        let message = lock_shown_message(&mut tx, message_id).await?;
        message.require_recipient(user_id)?;
        if message.read_at.is_some() {
            return Ok(message);
        }
        let now = Utc::now();
        let row = sqlx::query_as!(
            MessageRow,
            "UPDATE chat_messages AS m SET read_at = $2 WHERE m.id = $1 RETURNING m.id, m.sender_id, m.recipient_id, m.message, m.sent_at, m.read_at",
            message_id,
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let message = ChatMessage::from(row);
        let read_at = message.read_at.unwrap_or(now);
        emit(
            &mut tx,
            CHAT.topic(message.sender_id),
            events::message_read(&message, read_at),
        )
        .await?;
        tx.commit().await?;
        Ok(message)
    }

    /// Hides the message from both sides (sender only) and emits
    /// `MessageDeleted` to both. Like reading, under the row lock: a second
    /// deletion waits and then finds nothing to delete (NOT_FOUND).
    pub(crate) async fn delete_message(
        &self,
        user_id: Uuid,
        message_id: Uuid,
    ) -> Result<(), CoachingError> {
        let mut tx = self.outbox.begin().await?;
        let message = lock_shown_message(&mut tx, message_id).await?;
        message.require_sender(user_id)?;
        sqlx::query!(
            "UPDATE chat_messages SET is_deleted = TRUE WHERE id = $1",
            message_id,
        )
        .execute(&mut *tx)
        .await?;
        emit_to_both(
            &mut tx,
            CHAT,
            (message.sender_id, message.recipient_id),
            events::message_deleted(&message, Utc::now()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One page of the caller's conversation with `other_id`, newest first,
    /// strictly older than `before`. Paging is by the unique key (sent_at,
    /// id), so messages sharing a timestamp are neither skipped nor repeated
    /// across pages. `before` may be a message deleted since it was listed.
    pub(crate) async fn conversation_page(
        &self,
        user_id: Uuid,
        other_id: Uuid,
        before: Option<Uuid>,
        limit: PageLimit,
    ) -> Result<ConversationPage, CoachingError> {
        let mut conn = self.outbox.pool().acquire().await?;
        let (user_a, user_b) = pair(user_id, other_id);
        let conversation_id = sqlx::query_scalar!(
            "SELECT id FROM conversations WHERE user_a = $1 AND user_b = $2",
            user_a,
            user_b,
        )
        .fetch_optional(&mut *conn)
        .await?;
        let cursor = match (before, conversation_id) {
            (None, _) => None,
            (Some(before), Some(conversation_id)) => {
                cursor(&mut conn, conversation_id, before).await?
            }
            (Some(_), None) => return Err(foreign_cursor()),
        };
        let Some(conversation_id) = conversation_id else {
            return Ok(ConversationPage::from_fetched(Vec::new(), limit));
        };
        let fetch = i64::from(limit.get()) + 1;
        let rows = match cursor {
            None => {
                sqlx::query_as!(
                    MessageRow,
                    "SELECT m.id, m.sender_id, m.recipient_id, m.message, m.sent_at, m.read_at FROM chat_messages m
                     WHERE m.conversation_id = $1 AND NOT m.is_deleted
                     ORDER BY m.sent_at DESC, m.id DESC LIMIT $2",
                    conversation_id,
                    fetch,
                )
                .fetch_all(&mut *conn)
                .await?
            }
            Some((sent_at, id)) => {
                sqlx::query_as!(
                    MessageRow,
                    "SELECT m.id, m.sender_id, m.recipient_id, m.message, m.sent_at, m.read_at FROM chat_messages m
                     WHERE m.conversation_id = $1 AND NOT m.is_deleted
                       AND (m.sent_at, m.id) < ($2, $3)
                     ORDER BY m.sent_at DESC, m.id DESC LIMIT $4",
                    conversation_id,
                    sent_at,
                    id,
                    fetch,
                )
                .fetch_all(&mut *conn)
                .await?
            }
        };
        Ok(ConversationPage::from_fetched(all(rows), limit))
    }

    /// The caller's conversations with at least one message still shown,
    /// the most recently active first.
    pub(crate) async fn conversations(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<Conversation>, CoachingError> {
        let rows = sqlx::query!(
            r#"SELECT CASE WHEN c.user_a = $1 THEN c.user_b ELSE c.user_a END AS "other_id!",
                    last.id AS "id!", last.sender_id AS "sender_id!",
                    last.recipient_id AS "recipient_id!", last.message AS "message!",
                    last.sent_at AS "sent_at!", last.read_at,
                    (SELECT count(*) FROM chat_messages u
                     WHERE u.conversation_id = c.id AND u.recipient_id = $1
                       AND u.read_at IS NULL AND NOT u.is_deleted) AS "unread_count!"
             FROM conversations c
             CROSS JOIN LATERAL (
                 SELECT m.id, m.sender_id, m.recipient_id, m.message, m.sent_at, m.read_at FROM chat_messages m
                 WHERE m.conversation_id = c.id AND NOT m.is_deleted
                 ORDER BY m.sent_at DESC, m.id DESC LIMIT 1
             ) last
             WHERE c.user_a = $1 OR c.user_b = $1
             ORDER BY last.sent_at DESC, last.id DESC"#,
            user_id,
        )
        .fetch_all(self.outbox.pool())
        .await?;
        Ok(all(rows
            .into_iter()
            .map(|row| ConversationRow {
                other_id: row.other_id,
                last_message: MessageRow {
                    id: row.id,
                    sender_id: row.sender_id,
                    recipient_id: row.recipient_id,
                    message: row.message,
                    sent_at: row.sent_at,
                    read_at: row.read_at,
                },
                unread_count: row.unread_count,
            })
            .collect()))
    }
}

/// The id of the pair's conversation, created if this is their first
/// message. The insert waits for a concurrent one of the same pair and then
/// does nothing; the select, a statement of its own, sees whichever row won.
async fn conversation(
    conn: &mut PgConnection,
    one: Uuid,
    other: Uuid,
) -> Result<Uuid, CoachingError> {
    let (user_a, user_b) = pair(one, other);
    sqlx::query!(
        "INSERT INTO conversations (id, user_a, user_b, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT one_conversation_per_pair DO NOTHING",
        Uuid::new_v4(),
        user_a,
        user_b,
        Utc::now(),
    )
    .execute(&mut *conn)
    .await?;
    let id = sqlx::query_scalar!(
        "SELECT id FROM conversations WHERE user_a = $1 AND user_b = $2",
        user_a,
        user_b,
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// A message that exists and is not deleted (else NOT_FOUND), locked for
/// the rest of the transaction. A caller that waited for the lock gets the
/// row as the lock holder left it, or NOT_FOUND if that one deleted it.
async fn lock_shown_message(
    conn: &mut PgConnection,
    message_id: Uuid,
) -> Result<ChatMessage, CoachingError> {
    let row = sqlx::query_as!(
        MessageRow,
        "SELECT m.id, m.sender_id, m.recipient_id, m.message, m.sent_at, m.read_at FROM chat_messages m
         WHERE m.id = $1 AND NOT m.is_deleted FOR UPDATE",
        message_id,
    )
    .fetch_optional(conn)
    .await?;
    row.map(ChatMessage::from)
        .ok_or(CoachingError::NotFound("Message not found"))
}

/// The paging key of `before`, which must be a message of this conversation.
async fn cursor(
    conn: &mut PgConnection,
    conversation_id: Uuid,
    before: Uuid,
) -> Result<Option<(DateTime<Utc>, Uuid)>, CoachingError> {
    let key = sqlx::query!(
        "SELECT sent_at, id FROM chat_messages WHERE id = $1 AND conversation_id = $2",
        before,
        conversation_id,
    )
    .fetch_optional(conn)
    .await?
    .map(|row| (row.sent_at, row.id));
    key.map(Some).ok_or_else(foreign_cursor)
}

fn foreign_cursor() -> CoachingError {
    CoachingError::Invalid("before is not a message of this conversation".into())
}
