//! Request fields into domain values. Each failure is
//! `CoachingError::Invalid` naming the field as the client spelled it
//! (camelCase), so the message can be shown unchanged.

use pulse_auth::Identity;
use pulse_proto::coaching::v1 as proto;
use uuid::Uuid;

use crate::domain::{Caller, NewGoal, Targets};
use crate::CoachingError;

/// A UUID field: `Invalid recipientId`.
pub(super) fn id(field: &str, value: &str) -> Result<Uuid, CoachingError> {
    Uuid::parse_str(value.trim()).map_err(|_| CoachingError::Invalid(format!("Invalid {field}")))
}

/// The caller: id, name and roles from the validated token only. The name
/// can end up stored (in the notice of an invitation), so it must be text
/// the database can hold, like any field of a request.
pub(super) fn caller(identity: &Identity) -> Result<Caller, CoachingError> {
    let name = identity.name.trim();
    pulse_service::text::reject_nul("Token name", name)?;
    Ok(Caller {
        id: identity.user_id,
        name: name.to_owned(),
        is_trainer: identity.has_role("trainer"),
        is_internal: identity.has_role("service") || identity.has_role("admin"),
    })
}

pub(super) fn new_goal(goal: Option<proto::GoalInput>) -> Result<NewGoal, CoachingError> {
    let goal = goal.ok_or_else(|| CoachingError::Invalid("Goal is required".into()))?;
    let targets = Targets {
        calories: goal.target_calories,
        protein_grams: goal.target_protein_grams,
        carbs_grams: goal.target_carbs_grams,
        fat_grams: goal.target_fat_grams,
    };
    NewGoal::new(&goal.r#type, targets, goal.target_date.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ids_name_the_field() {
        assert!(matches!(
            id("recipientId", "bob"),
            Err(CoachingError::Invalid(message)) if message == "Invalid recipientId"
        ));
        let bob = Uuid::new_v4();
        assert_eq!(id("recipientId", &format!(" {bob} ")).ok(), Some(bob));
    }

    #[test]
    fn roles_are_read_from_the_token() {
        let identity = |roles: &[&str]| Identity {
            user_id: Uuid::new_v4(),
            name: " Tess ".into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            expires_at: 0,
        };
        let with_roles = |roles: &[&str]| caller(&identity(roles)).expect("valid caller");
        let trainer = with_roles(&["Trainer"]);
        assert!(trainer.is_trainer && !trainer.is_internal);
        assert_eq!(trainer.name, "Tess");
        assert!(with_roles(&["service"]).is_internal);
        assert!(with_roles(&["admin"]).is_internal);
        let nobody = with_roles(&[]);
        assert!(!nobody.is_trainer && !nobody.is_internal);
    }

    #[test]
    fn a_token_name_with_a_nul_is_refused() {
        let identity = Identity {
            user_id: Uuid::new_v4(),
            name: "Te\0ss".into(),
            roles: Vec::new(),
            expires_at: 0,
        };
        assert!(matches!(
            caller(&identity),
            Err(CoachingError::Invalid(message)) if message == "Token name cannot contain NUL characters"
        ));
    }

    #[test]
    fn a_goal_is_required_to_assign_one() {
        assert!(matches!(
            new_goal(None),
            Err(CoachingError::Invalid(message)) if message == "Goal is required"
        ));
    }
}
