//! Topics: added by anyone in an open session, managed by their author or
//! the facilitator.

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::query_topics;
use super::{emit, session, Hold, Store};
use crate::domain::{require_topic_manager, Actor, NewTopic, Topic, TopicPatch, TopicStatus};
use crate::{events, LeanCoffeeError};

impl Store {
    /// Adds a topic by the caller, ToDiscuss with no votes; emits `TopicAdded`.
    pub(crate) async fn add_topic(
        &self,
        actor: &Actor,
        session_id: Uuid,
        new: NewTopic,
    ) -> Result<Topic, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        session(&mut tx, session_id, Hold::Share)
            .await?
            .require_open()?;
        let now = Utc::now();
        let row = query_topics!(
            "INSERT INTO topics AS t (id, session_id, title, description, author_id, author_name, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING",
            "",
            Uuid::new_v4(),
            session_id,
            &new.title,
            new.description.as_deref(),
            actor.id,
            &actor.display_name,
            TopicStatus::ToDiscuss.as_str(),
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let topic = Topic::try_from(row)?;
        emit(&mut tx, session_id, events::topic_added(&topic, now), None).await?;
        tx.commit().await?;
        Ok(topic)
    }

    /// Applies `patch` and emits `TopicEdited`; a patch that changes nothing
    /// returns the topic as it is, without writing or emitting.
    pub(crate) async fn edit_topic(
        &self,
        actor: &Actor,
        session_id: Uuid,
        topic_id: Uuid,
        patch: TopicPatch,
    ) -> Result<Topic, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        let session = session(&mut tx, session_id, Hold::Share).await?;
        lock_topic(&mut tx, session_id, topic_id).await?;
        let topic = read_topic(&mut tx, topic_id).await?;
        require_topic_manager(&session, &topic, actor.id)?;
        session.require_open()?;
        let Some(edited) = patch.apply(&topic) else {
            return Ok(topic);
        };
        let now = Utc::now();
        let row = query_topics!(
            "UPDATE topics AS t SET title = $2, description = $3, updated_at = $4
             WHERE t.id = $1 RETURNING",
            "",
            topic_id,
            &edited.title,
            edited.description.as_deref(),
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let topic = Topic::try_from(row)?;
        emit(&mut tx, session_id, events::topic_edited(&topic, now), None).await?;
        tx.commit().await?;
        Ok(topic)
    }

    /// Deletes the topic with its votes; emits `TopicDeleted`.
    pub(crate) async fn delete_topic(
        &self,
        actor: &Actor,
        session_id: Uuid,
        topic_id: Uuid,
    ) -> Result<(), LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        let session = session(&mut tx, session_id, Hold::Share).await?;
        lock_topic(&mut tx, session_id, topic_id).await?;
        let topic = read_topic(&mut tx, topic_id).await?;
        require_topic_manager(&session, &topic, actor.id)?;
        session.require_open()?;
        sqlx::query!("DELETE FROM topics WHERE id = $1", topic_id)
            .execute(&mut *tx)
            .await?;
        emit(
            &mut tx,
            session_id,
            events::topic_deleted(session_id, topic_id, Utc::now()),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the topic's status and emits `TopicStatusChanged`.
    pub(crate) async fn set_topic_status(
        &self,
        actor: &Actor,
        session_id: Uuid,
        topic_id: Uuid,
        status: TopicStatus,
    ) -> Result<Topic, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        let session = session(&mut tx, session_id, Hold::Share).await?;
        lock_topic(&mut tx, session_id, topic_id).await?;
        let topic = read_topic(&mut tx, topic_id).await?;
        require_topic_manager(&session, &topic, actor.id)?;
        session.require_open()?;
        if topic.status == status {
            return Err(LeanCoffeeError::Precondition(format!(
                "topic is already {status}"
            )));
        }
        let now = Utc::now();
        let row = query_topics!(
            "UPDATE topics AS t SET status = $2, updated_at = $3
             WHERE t.id = $1 RETURNING",
            "",
            topic_id,
            status.as_str(),
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let topic = Topic::try_from(row)?;
        emit(
            &mut tx,
            session_id,
            events::topic_status_changed(&topic, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(topic)
    }
}

/// Locks the topic row (of this session) for the rest of the transaction.
/// Read the topic with [`read_topic`] afterwards, in a statement of its own:
/// in READ COMMITTED, a statement that waited for the lock still counts votes
/// as of its start, which would miss the votes of the transaction it waited
/// for; a later statement sees them.
pub(super) async fn lock_topic(
    conn: &mut PgConnection,
    session_id: Uuid,
    topic_id: Uuid,
) -> Result<(), LeanCoffeeError> {
    let locked = sqlx::query_scalar!(
        "SELECT id FROM topics WHERE id = $1 AND session_id = $2 FOR UPDATE",
        topic_id,
        session_id,
    )
    .fetch_optional(conn)
    .await?;
    locked
        .map(|_| ())
        .ok_or(LeanCoffeeError::NotFound("topic not found"))
}

/// The topic with its current vote count.
pub(super) async fn read_topic(
    conn: &mut PgConnection,
    topic_id: Uuid,
) -> Result<Topic, LeanCoffeeError> {
    let row = query_topics!("SELECT", "FROM topics t WHERE t.id = $1", topic_id)
        .fetch_one(conn)
        .await?;
    row.try_into()
}
