//! A trainer coaching a client: invited by the trainer (Pending), accepted by
//! the client (Active), ended by either (Ended). The client decides whether
//! the trainer may assign goals. At most one relationship per pair is
//! pending or active; that is the database's rule (a partial unique index),
//! so two simultaneous invitations cannot both be stored.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Caller, NOT_AUTHORIZED};
use crate::CoachingError;

/// What a caller who is not part of a relationship is told about it: the
/// same as for one that does not exist.
pub const RELATIONSHIP_NOT_FOUND: &str = "Relationship not found";
const ENDED: &str = "Relationship has already ended";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipStatus {
    Pending,
    Active,
    Ended,
}

impl RelationshipStatus {
    const ALL: [RelationshipStatus; 3] = [
        RelationshipStatus::Pending,
        RelationshipStatus::Active,
        RelationshipStatus::Ended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelationshipStatus::Pending => "Pending",
            RelationshipStatus::Active => "Active",
            RelationshipStatus::Ended => "Ended",
        }
    }

    /// A status as the database stores it (its CHECK allows nothing else).
    pub fn from_stored(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub id: Uuid,
    pub trainer_id: Uuid,
    pub client_id: Uuid,
    pub status: RelationshipStatus,
    /// Whether the trainer may assign goals to the client.
    pub can_edit_goals: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Relationship {
    /// Only its trainer and its client may see or change a relationship;
    /// anyone else is told it does not exist.
    pub fn require_party(&self, user_id: Uuid) -> Result<(), CoachingError> {
        if user_id == self.trainer_id || user_id == self.client_id {
            Ok(())
        } else {
            Err(CoachingError::NotFound(RELATIONSHIP_NOT_FOUND))
        }
    }

    /// The relationship after its client accepted the invitation at `now`.
    pub fn accepted_by(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<Self, CoachingError> {
        self.require_party(user_id)?;
        self.require_client(user_id)?;
        if self.status != RelationshipStatus::Pending {
            return Err(CoachingError::Precondition(
                "Only a pending invitation can be accepted".into(),
            ));
        }
        Ok(self.moved(RelationshipStatus::Active, self.can_edit_goals, now))
    }

    /// The relationship after either side ended it at `now`; a pending one
    /// may be ended too (an invitation declined or withdrawn).
    pub fn ended_by(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<Self, CoachingError> {
        self.require_party(user_id)?;
        if self.status == RelationshipStatus::Ended {
            return Err(CoachingError::Precondition(ENDED.into()));
        }
        Ok(self.moved(RelationshipStatus::Ended, self.can_edit_goals, now))
    }

    /// The relationship after its client set the goal-edit permission at
    /// `now`, or `None` when it already is that (nothing to write or tell).
    pub fn with_goal_edit(
        &self,
        user_id: Uuid,
        can_edit_goals: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Self>, CoachingError> {
        self.require_party(user_id)?;
        self.require_client(user_id)?;
        if self.status == RelationshipStatus::Ended {
            return Err(CoachingError::Precondition(ENDED.into()));
        }
        if self.can_edit_goals == can_edit_goals {
            return Ok(None);
        }
        Ok(Some(self.moved(self.status, can_edit_goals, now)))
    }

    fn require_client(&self, user_id: Uuid) -> Result<(), CoachingError> {
        if user_id == self.client_id {
            Ok(())
        } else {
            Err(CoachingError::PermissionDenied(NOT_AUTHORIZED))
        }
    }

    fn moved(&self, status: RelationshipStatus, can_edit_goals: bool, now: DateTime<Utc>) -> Self {
        Self {
            status,
            can_edit_goals,
            updated_at: now,
            ..self.clone()
        }
    }
}

/// A validated `InviteClient`: a trainer inviting someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub trainer_id: Uuid,
    pub client_id: Uuid,
    pub can_edit_goals: bool,
}

impl Invitation {
    pub fn new(
        caller: &Caller,
        client_id: Uuid,
        can_edit_goals: bool,
    ) -> Result<Self, CoachingError> {
        if !caller.is_trainer {
            return Err(CoachingError::PermissionDenied(
                "Only trainers can invite clients",
            ));
        }
        if client_id == caller.id {
            return Err(CoachingError::Invalid("Cannot invite yourself".into()));
        }
        Ok(Self {
            trainer_id: caller.id,
            client_id,
            can_edit_goals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RelationshipStatus::{Active, Ended, Pending};

    fn relationship(status: RelationshipStatus) -> Relationship {
        let at = Utc::now() - chrono::Duration::hours(1);
        Relationship {
            id: Uuid::new_v4(),
            trainer_id: Uuid::new_v4(),
            client_id: Uuid::new_v4(),
            status,
            can_edit_goals: false,
            created_at: at,
            updated_at: at,
        }
    }

    fn caller(is_trainer: bool) -> Caller {
        Caller {
            id: Uuid::new_v4(),
            name: "Tess".into(),
            is_trainer,
            is_internal: false,
        }
    }

    #[test]
    fn the_client_accepts_a_pending_invitation() {
        let pending = relationship(Pending);
        let now = Utc::now();
        let active = pending
            .accepted_by(pending.client_id, now)
            .expect("accepts");
        assert_eq!((active.status, active.updated_at), (Active, now));
        assert_eq!(active.created_at, pending.created_at);
    }

    #[test]
    fn the_trainer_cannot_accept_and_only_pending_can_be_accepted() {
        let pending = relationship(Pending);
        assert!(matches!(
            pending.accepted_by(pending.trainer_id, Utc::now()),
            Err(CoachingError::PermissionDenied("Not authorized"))
        ));
        for status in [Active, Ended] {
            let other = relationship(status);
            assert!(matches!(
                other.accepted_by(other.client_id, Utc::now()),
                Err(CoachingError::Precondition(message))
                    if message == "Only a pending invitation can be accepted"
            ));
        }
    }

    #[test]
    fn either_side_ends_pending_or_active_but_not_ended() {
        for status in [Pending, Active] {
            let open = relationship(status);
            for side in [open.trainer_id, open.client_id] {
                let ended = open.ended_by(side, Utc::now()).expect("ends");
                assert_eq!(ended.status, Ended);
            }
        }
        let ended = relationship(Ended);
        assert!(matches!(
            ended.ended_by(ended.client_id, Utc::now()),
            Err(CoachingError::Precondition(message))
                if message == "Relationship has already ended"
        ));
    }

    #[test]
    fn outsiders_are_told_the_relationship_does_not_exist() {
        let open = relationship(Active);
        let stranger = Uuid::new_v4();
        let refusals = [
            open.accepted_by(stranger, Utc::now()).map(|_| ()),
            open.ended_by(stranger, Utc::now()).map(|_| ()),
            open.with_goal_edit(stranger, true, Utc::now()).map(|_| ()),
        ];
        for refused in refusals {
            assert!(matches!(
                refused,
                Err(CoachingError::NotFound("Relationship not found"))
            ));
        }
    }

    #[test]
    fn only_the_client_sets_the_permission_and_the_same_value_changes_nothing() {
        let open = relationship(Active);
        let granted = open
            .with_goal_edit(open.client_id, true, Utc::now())
            .expect("allowed")
            .expect("changed");
        assert!(granted.can_edit_goals);
        assert_eq!(granted.status, Active);
        assert_eq!(
            open.with_goal_edit(open.client_id, false, Utc::now()).ok(),
            Some(None)
        );
        assert!(matches!(
            open.with_goal_edit(open.trainer_id, true, Utc::now()),
            Err(CoachingError::PermissionDenied("Not authorized"))
        ));
        let ended = relationship(Ended);
        assert!(matches!(
            ended.with_goal_edit(ended.client_id, true, Utc::now()),
            Err(CoachingError::Precondition(_))
        ));
    }

    #[test]
    fn only_trainers_invite_and_never_themselves() {
        let trainer = caller(true);
        let client = Uuid::new_v4();
        let invitation = Invitation::new(&trainer, client, true).expect("valid");
        assert_eq!(
            (invitation.trainer_id, invitation.client_id),
            (trainer.id, client)
        );
        assert!(matches!(
            Invitation::new(&caller(false), client, true),
            Err(CoachingError::PermissionDenied(
                "Only trainers can invite clients"
            ))
        ));
        assert!(matches!(
            Invitation::new(&trainer, trainer.id, true),
            Err(CoachingError::Invalid(message)) if message == "Cannot invite yourself"
        ));
    }

    #[test]
    fn stored_status_names_round_trip() {
        for status in [Pending, Active, Ended] {
            assert_eq!(
                RelationshipStatus::from_stored(status.as_str()),
                Some(status)
            );
        }
        assert_eq!(RelationshipStatus::from_stored("active"), None);
    }
}
