//! Goals of a client, assigned by a trainer the client allows to, and the
//! progress the client records on them.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{text, Caller, Relationship, RelationshipStatus, NOT_AUTHORIZED};
use crate::CoachingError;

/// Longest goal type, in characters.
pub const GOAL_TYPE_MAX: usize = 100;
/// Longest progress note.
pub const NOTES_MAX: usize = 2000;

/// The nutrition targets of a goal; each may be absent, none is negative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    pub calories: Option<i32>,
    pub protein_grams: Option<i32>,
    pub carbs_grams: Option<i32>,
    pub fat_grams: Option<i32>,
}

impl Targets {
    fn check(self) -> Result<Self, CoachingError> {
        let named = [
            ("targetCalories", self.calories),
            ("targetProteinGrams", self.protein_grams),
            ("targetCarbsGrams", self.carbs_grams),
            ("targetFatGrams", self.fat_grams),
        ];
        for (field, value) in named {
            if value.is_some_and(|value| value < 0) {
                return Err(CoachingError::Invalid(format!(
                    "{field} cannot be negative"
                )));
            }
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub id: Uuid,
    /// The client who owns the goal.
    pub user_id: Uuid,
    /// The trainer who assigned it.
    pub trainer_id: Option<Uuid>,
    pub goal_type: String,
    pub targets: Targets,
    pub target_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Goal {
    /// Progress is recorded by the goal's owner only.
    pub fn require_owner(&self, user_id: Uuid) -> Result<(), CoachingError> {
        if self.user_id == user_id {
            Ok(())
        } else {
            Err(CoachingError::PermissionDenied(NOT_AUTHORIZED))
        }
    }
}

/// Assigning a goal takes role `trainer` and an active relationship of the
/// caller, as trainer, with the client that allows goal edits; `open` is the
/// pair's pending or active relationship, if any.
pub fn require_assigner(caller: &Caller, open: Option<&Relationship>) -> Result<(), CoachingError> {
    let allowed = caller.is_trainer
        && open.is_some_and(|relationship| {
            relationship.trainer_id == caller.id
                && relationship.status == RelationshipStatus::Active
                && relationship.can_edit_goals
        });
    if allowed {
        Ok(())
    } else {
        Err(CoachingError::PermissionDenied(
            "Not authorized to assign goals to this client",
        ))
    }
}

/// A user's goals and their progress are theirs to see, and their active
/// trainers' (`trains_owner`: the viewer has an active relationship with the
/// owner as trainer).
pub fn require_goal_viewer(
    viewer: Uuid,
    owner: Uuid,
    trains_owner: bool,
) -> Result<(), CoachingError> {
    if viewer == owner || trains_owner {
        Ok(())
    } else {
        Err(CoachingError::PermissionDenied(NOT_AUTHORIZED))
    }
}

/// A validated goal of `AssignGoal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGoal {
    pub goal_type: String,
    pub targets: Targets,
    pub target_date: Option<NaiveDate>,
}

impl NewGoal {
    /// `goal_type` is trimmed; a blank `target_date` means none.
    pub fn new(
        goal_type: &str,
        targets: Targets,
        target_date: Option<&str>,
    ) -> Result<Self, CoachingError> {
        let target_date = target_date
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(parse_date)
            .transpose()?;
        Ok(Self {
            goal_type: text::required("Goal type", goal_type, GOAL_TYPE_MAX)?,
            targets: targets.check()?,
            target_date,
        })
    }
}

/// A goal's target date as clients send it and see it: `YYYY-MM-DD`.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Exactly `YYYY-MM-DD`, a real calendar date.
fn parse_date(value: &str) -> Result<NaiveDate, CoachingError> {
    let refusal = || CoachingError::Invalid("targetDate must be a date (YYYY-MM-DD)".into());
    if value.len() != 10 {
        return Err(refusal());
    }
    NaiveDate::parse_from_str(value, DATE_FORMAT).map_err(|_| refusal())
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoalProgress {
    pub id: Uuid,
    pub goal_id: Uuid,
    /// The goal's owner, who recorded it.
    pub user_id: Uuid,
    pub value: f64,
    pub notes: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// A validated `UpdateGoalProgress`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProgress {
    pub value: f64,
    /// Trimmed; blank means none.
    pub notes: Option<String>,
}

impl NewProgress {
    pub fn new(value: f64, notes: Option<String>) -> Result<Self, CoachingError> {
        if !value.is_finite() {
            return Err(CoachingError::Invalid(
                "value must be a finite number".into(),
            ));
        }
        Ok(Self {
            value,
            notes: text::optional("Notes", notes, NOTES_MAX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_testkit::invalid_message as refusal;

    #[test]
    fn a_goal_needs_a_type_and_keeps_its_targets_and_date() {
        let targets = Targets {
            calories: Some(2000),
            protein_grams: Some(0),
            ..Targets::default()
        };
        let goal = NewGoal::new(" WeightLoss ", targets, Some("2030-02-28")).expect("valid");
        assert_eq!(goal.goal_type, "WeightLoss");
        assert_eq!(goal.targets, targets);
        assert_eq!(goal.target_date, NaiveDate::from_ymd_opt(2030, 2, 28));
        assert_eq!(
            refusal(NewGoal::new("  ", targets, None)),
            "Goal type cannot be empty"
        );
        assert_eq!(
            refusal(NewGoal::new(&"g".repeat(101), targets, None)),
            "Goal type cannot exceed 100 characters"
        );
    }

    #[test]
    fn negative_targets_are_refused_by_name() {
        let cases = [
            (
                Targets {
                    calories: Some(-1),
                    ..Targets::default()
                },
                "targetCalories cannot be negative",
            ),
            (
                Targets {
                    fat_grams: Some(-5),
                    ..Targets::default()
                },
                "targetFatGrams cannot be negative",
            ),
        ];
        for (targets, message) in cases {
            assert_eq!(refusal(NewGoal::new("Cut", targets, None)), message);
        }
    }

    #[test]
    fn target_date_must_be_a_real_iso_date_and_blank_means_none() {
        for bad in ["2030-02-30", "2030-2-3", "tomorrow", "2030-02-28T00:00:00Z"] {
            assert_eq!(
                refusal(NewGoal::new("Cut", Targets::default(), Some(bad))),
                "targetDate must be a date (YYYY-MM-DD)",
                "{bad}"
            );
        }
        let none = NewGoal::new("Cut", Targets::default(), Some(" ")).expect("valid");
        assert_eq!(none.target_date, None);
    }

    #[test]
    fn progress_must_be_finite_with_optional_notes() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                refusal(NewProgress::new(bad, None)),
                "value must be a finite number"
            );
        }
        let progress = NewProgress::new(-1.5, Some(" ate well ".into())).expect("valid");
        assert_eq!(progress.notes.as_deref(), Some("ate well"));
        assert_eq!(
            refusal(NewProgress::new(1.0, Some("n".repeat(2001)))),
            "Notes cannot exceed 2000 characters"
        );
    }

    fn relationship(
        trainer: &Caller,
        status: RelationshipStatus,
        can_edit_goals: bool,
    ) -> Relationship {
        Relationship {
            id: Uuid::new_v4(),
            trainer_id: trainer.id,
            client_id: Uuid::new_v4(),
            status,
            can_edit_goals,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn only_an_active_trainer_allowed_to_edit_goals_assigns_them() {
        let trainer = Caller {
            id: Uuid::new_v4(),
            name: "Tess".into(),
            is_trainer: true,
            is_internal: false,
        };
        let allowed = relationship(&trainer, RelationshipStatus::Active, true);
        assert!(require_assigner(&trainer, Some(&allowed)).is_ok());
        let no_role = Caller {
            is_trainer: false,
            ..trainer.clone()
        };
        let refused = [
            require_assigner(&no_role, Some(&allowed)),
            require_assigner(&trainer, None),
            require_assigner(
                &trainer,
                Some(&relationship(&trainer, RelationshipStatus::Pending, true)),
            ),
            require_assigner(
                &trainer,
                Some(&relationship(&trainer, RelationshipStatus::Active, false)),
            ),
        ];
        for refusal in refused {
            assert!(matches!(
                refusal,
                Err(CoachingError::PermissionDenied(
                    "Not authorized to assign goals to this client"
                ))
            ));
        }
    }

    #[test]
    fn goals_are_visible_to_their_owner_and_active_trainers_only() {
        let (owner, trainer) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(require_goal_viewer(owner, owner, false).is_ok());
        assert!(require_goal_viewer(trainer, owner, true).is_ok());
        assert!(matches!(
            require_goal_viewer(trainer, owner, false),
            Err(CoachingError::PermissionDenied("Not authorized"))
        ));
    }

    #[test]
    fn only_the_owner_records_progress() {
        let owner = Uuid::new_v4();
        let goal = Goal {
            id: Uuid::new_v4(),
            user_id: owner,
            trainer_id: None,
            goal_type: "Cut".into(),
            targets: Targets::default(),
            target_date: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert!(goal.require_owner(owner).is_ok());
        assert!(matches!(
            goal.require_owner(Uuid::new_v4()),
            Err(CoachingError::PermissionDenied("Not authorized"))
        ));
    }
}
