//! Trainer-client relationships. Every change is announced with
//! `RelationshipUpdated` to both sides' notification groups.

use chrono::{DateTime, Utc};
use pulse_outbox::OutboxTransaction;
use pulse_proto::coaching::NOTIFICATIONS;
use sqlx::PgConnection;
use uuid::Uuid;

use super::notifications::store_notification;
use super::rows::RelationshipRow;
use super::{emit_to_both, Store};
use crate::domain::{
    Caller, Invitation, NewNotification, Relationship, RelationshipStatus, RELATIONSHIP_NOT_FOUND,
};
use crate::{events, CoachingError};

impl Store {
    /// Stores a Pending relationship and a `RelationshipInvited` notification
    /// for the client. The partial unique index decides whether the pair
    /// already has an open relationship: of simultaneous invitations, one is
    /// stored and the others find it (the insert waits for the winner).
    pub(crate) async fn invite_client(
        &self,
        trainer: &Caller,
        invitation: Invitation,
    ) -> Result<Relationship, CoachingError> {
        let mut tx = self.outbox.begin().await?;
        let now = Utc::now();
        let row = sqlx::query_as!(
            RelationshipRow,
            "INSERT INTO relationships AS r
                 (id, trainer_id, client_id, status, can_edit_goals, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (trainer_id, client_id) WHERE status IN ('Pending', 'Active') DO NOTHING
             RETURNING r.id, r.trainer_id, r.client_id, r.status, r.can_edit_goals, r.created_at, r.updated_at",
            Uuid::new_v4(),
            invitation.trainer_id,
            invitation.client_id,
            RelationshipStatus::Pending.as_str(),
            invitation.can_edit_goals,
            now,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let relationship = Relationship::try_from(row.ok_or(CoachingError::AlreadyExists(
            "A relationship with this client already exists",
        ))?)?;
        announce(&mut tx, &relationship).await?;
        store_notification(&mut tx, NewNotification::invited(trainer, &invitation)).await?;
        tx.commit().await?;
        Ok(relationship)
    }

    /// Applies `change` (a domain rule, bound to the caller) to the
    /// relationship under its row lock and announces the result; a change
    /// of `None` leaves it as it is, without writing or announcing.
    pub(crate) async fn change_relationship(
        &self,
        relationship_id: Uuid,
        change: impl FnOnce(&Relationship, DateTime<Utc>) -> Result<Option<Relationship>, CoachingError>,
    ) -> Result<Relationship, CoachingError> {
        let mut tx = self.outbox.begin().await?;
        let current = lock_relationship(&mut tx, relationship_id).await?;
        let Some(changed) = change(&current, Utc::now())? else {
            return Ok(current);
        };
        let row = sqlx::query_as!(
            RelationshipRow,
            "UPDATE relationships AS r SET status = $2, can_edit_goals = $3, updated_at = $4
             WHERE r.id = $1 RETURNING r.id, r.trainer_id, r.client_id, r.status, r.can_edit_goals, r.created_at, r.updated_at",
            relationship_id,
            changed.status.as_str(),
            changed.can_edit_goals,
            changed.updated_at,
        )
        .fetch_one(&mut *tx)
        .await?;
        let relationship = Relationship::try_from(row)?;
        announce(&mut tx, &relationship).await?;
        tx.commit().await?;
        Ok(relationship)
    }

    /// Every relationship the user is part of, newest first.
    pub(crate) async fn relationships(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<Relationship>, CoachingError> {
        let rows = sqlx::query_as!(
            RelationshipRow,
            "SELECT r.id, r.trainer_id, r.client_id, r.status, r.can_edit_goals, r.created_at, r.updated_at FROM relationships r
             WHERE r.trainer_id = $1 OR r.client_id = $1
             ORDER BY r.created_at DESC, r.id DESC",
            user_id,
        )
        .fetch_all(self.outbox.pool())
        .await?;
        rows.into_iter().map(Relationship::try_from).collect()
    }
}

/// The relationship, locked until the transaction ends; NOT_FOUND if there
/// is none (the caller's own rules then hide others' relationships the same
/// way).
async fn lock_relationship(
    conn: &mut PgConnection,
    relationship_id: Uuid,
) -> Result<Relationship, CoachingError> {
    let row = sqlx::query_as!(
        RelationshipRow,
        "SELECT r.id, r.trainer_id, r.client_id, r.status, r.can_edit_goals, r.created_at, r.updated_at FROM relationships r WHERE r.id = $1 FOR UPDATE",
        relationship_id,
    )
    .fetch_optional(conn)
    .await?;
    row.ok_or(CoachingError::NotFound(RELATIONSHIP_NOT_FOUND))?
        .try_into()
}

/// `RelationshipUpdated` to the trainer and to the client.
async fn announce(
    tx: &mut OutboxTransaction,
    relationship: &Relationship,
) -> Result<(), CoachingError> {
    emit_to_both(
        tx,
        NOTIFICATIONS,
        (relationship.trainer_id, relationship.client_id),
        events::relationship_updated(relationship),
    )
    .await
}
