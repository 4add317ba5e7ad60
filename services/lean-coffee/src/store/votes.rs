//! Votes. One per user per topic is the database's rule (the votes table's
//! key): a second vote is refused by `ON CONFLICT DO NOTHING`, never by a
//! read-then-write check that two concurrent calls could both pass. Every
//! vote command locks the topic row before touching votes, so the count it
//! reads afterwards includes every earlier vote and no later one: the
//! `voteCount` of each event is the number stored right after that change.

use chrono::Utc;
use uuid::Uuid;

use super::topics::{lock_topic, read_topic};
use super::{emit, session, Hold, Store};
use crate::domain::{Actor, Topic};
use crate::{events, LeanCoffeeError};

impl Store {
    /// Records the caller's vote and emits `VoteCast` with the new count.
    pub(crate) async fn vote_for_topic(
        &self,
        actor: &Actor,
        session_id: Uuid,
        topic_id: Uuid,
    ) -> Result<Topic, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        session(&mut tx, session_id, Hold::Share)
            .await?
            .require_open()?;
        lock_topic(&mut tx, session_id, topic_id).await?;
        let now = Utc::now();
        let stored = sqlx::query!(
            "INSERT INTO votes (topic_id, user_id, session_id, cast_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT ON CONSTRAINT one_vote_per_user_per_topic DO NOTHING",
            topic_id,
            actor.id,
            session_id,
            now,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if stored == 0 {
            return Err(LeanCoffeeError::AlreadyExists(
                "you have already voted for this topic",
            ));
        }
        let topic = read_topic(&mut tx, topic_id).await?;
        emit(
            &mut tx,
            session_id,
            events::vote_cast(&topic, actor.id, now),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(topic)
    }

    /// Removes the caller's vote and emits `VoteRemoved` with the new count.
    pub(crate) async fn remove_vote(
        &self,
        actor: &Actor,
        session_id: Uuid,
        topic_id: Uuid,
    ) -> Result<Topic, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        session(&mut tx, session_id, Hold::Share)
            .await?
            .require_open()?;
        lock_topic(&mut tx, session_id, topic_id).await?;
        let removed = sqlx::query!(
            "DELETE FROM votes WHERE topic_id = $1 AND user_id = $2",
            topic_id,
            actor.id,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed == 0 {
            return Err(LeanCoffeeError::NotFound(
                "you have not voted for this topic",
            ));
        }
        let topic = read_topic(&mut tx, topic_id).await?;
        emit(
            &mut tx,
            session_id,
            events::vote_removed(&topic, actor.id, Utc::now()),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(topic)
    }
}
