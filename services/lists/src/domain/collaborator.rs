//! Collaborators: who may be given access, removed, or re-permissioned.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Permission, UserRef};
use crate::ListsError;

#[derive(Debug, Clone, PartialEq)]
pub struct Collaborator {
    pub user: UserRef,
    pub permission: Permission,
    pub added_at: DateTime<Utc>,
}

/// The owner already has every right; sharing with them is a mistake, not a
/// no-op, so the client learns about it.
pub fn check_share(owner_id: Uuid, target: Uuid) -> Result<(), ListsError> {
    if owner_id == target {
        return Err(ListsError::Invalid(
            "cannot share a list with its owner".into(),
        ));
    }
    Ok(())
}

/// The owner removes anyone but themself; any other collaborator may only
/// remove themself (leave the list).
pub fn check_removal(
    actor: Uuid,
    actor_permission: Permission,
    target: Uuid,
    target_permission: Permission,
) -> Result<(), ListsError> {
    if target_permission == Permission::Owner {
        return Err(ListsError::Invalid(
            "the owner cannot be removed from the list".into(),
        ));
    }
    if actor == target || actor_permission == Permission::Owner {
        return Ok(());
    }
    Err(ListsError::PermissionDenied(
        "only the owner can remove other collaborators",
    ))
}

/// The owner's permission is fixed; only editors and viewers change.
pub fn check_permission_change(target_permission: Permission) -> Result<(), ListsError> {
    if target_permission == Permission::Owner {
        return Err(ListsError::Invalid(
            "the owner's permission cannot be changed".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharing_with_the_owner_is_invalid() {
        let owner = Uuid::new_v4();
        assert!(matches!(
            check_share(owner, owner),
            Err(ListsError::Invalid(_))
        ));
        assert!(check_share(owner, Uuid::new_v4()).is_ok());
    }

    #[test]
    fn collaborator_may_remove_themself() {
        let me = Uuid::new_v4();
        assert!(check_removal(me, Permission::Viewer, me, Permission::Viewer).is_ok());
    }

    #[test]
    fn editor_may_not_remove_someone_else() {
        let result = check_removal(
            Uuid::new_v4(),
            Permission::Editor,
            Uuid::new_v4(),
            Permission::Viewer,
        );
        assert!(matches!(result, Err(ListsError::PermissionDenied(_))));
    }

    #[test]
    fn owner_removes_others_but_not_themself() {
        let owner = Uuid::new_v4();
        assert!(
            check_removal(owner, Permission::Owner, Uuid::new_v4(), Permission::Editor).is_ok()
        );
        assert!(check_removal(owner, Permission::Owner, owner, Permission::Owner).is_err());
    }

    #[test]
    fn owner_permission_cannot_change() {
        assert!(check_permission_change(Permission::Owner).is_err());
        assert!(check_permission_change(Permission::Viewer).is_ok());
    }
}
