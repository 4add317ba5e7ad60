//! Who may do what on a list. The owner does everything; editors manage
//! items; viewers only read. Checked in the store inside the command's
//! transaction, against the permission read under the list's row lock, so a
//! permission change cannot interleave with a command it would forbid.

use std::fmt;

use crate::ListsError;

/// A user's standing on one list, stored and sent as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Owner,
    Editor,
    Viewer,
}

/// What a call needs to be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the list, its items, collaborators and presence.
    Read,
    /// Add, change, delete, purchase and reorder items.
    EditItems,
    /// Rename, archive, share, change or remove collaborators.
    Manage,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Owner => "Owner",
            Permission::Editor => "Editor",
            Permission::Viewer => "Viewer",
        }
    }

    /// A permission name read back from the database (exact spelling).
    pub fn from_stored(name: &str) -> Option<Self> {
        match name {
            "Owner" => Some(Permission::Owner),
            "Editor" => Some(Permission::Editor),
            "Viewer" => Some(Permission::Viewer),
            _ => None,
        }
    }

    /// A permission a client asks to give someone: only `Editor` or `Viewer`
    /// (a list has exactly one owner, its creator).
    pub fn assignable(name: &str) -> Result<Self, ListsError> {
        match Self::from_stored(name) {
            Some(permission @ (Permission::Editor | Permission::Viewer)) => Ok(permission),
            Some(Permission::Owner) => Err(ListsError::Invalid(
                "permission 'Owner' cannot be assigned (expected Editor or Viewer)".into(),
            )),
            None => Err(ListsError::Invalid(format!(
                "unknown permission '{name}' (expected Editor or Viewer)"
            ))),
        }
    }

    pub fn allows(self, action: Action) -> bool {
        match (self, action) {
            (Permission::Owner, _) => true,
            (Permission::Editor, Action::Read | Action::EditItems) => true,
            (Permission::Viewer, Action::Read) => true,
            (Permission::Editor, Action::Manage)
            | (Permission::Viewer, Action::EditItems | Action::Manage) => false,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The caller's permission if it allows `action`. `None` (no access at all)
/// and too little access are both PERMISSION_DENIED, with a message that says
/// which.
pub fn require(access: Option<Permission>, action: Action) -> Result<Permission, ListsError> {
    let Some(permission) = access else {
        return Err(ListsError::PermissionDenied("access denied"));
    };
    if permission.allows(action) {
        return Ok(permission);
    }
    Err(ListsError::PermissionDenied(match action {
        Action::Read => "access denied",
        Action::EditItems => "only the owner and editors can change items",
        Action::Manage => "only the owner can manage the list",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_may_do_everything() {
        for action in [Action::Read, Action::EditItems, Action::Manage] {
            assert!(Permission::Owner.allows(action));
        }
    }

    #[test]
    fn editor_manages_items_but_not_the_list() {
        assert!(Permission::Editor.allows(Action::EditItems));
        assert!(!Permission::Editor.allows(Action::Manage));
    }

    #[test]
    fn viewer_only_reads() {
        assert!(Permission::Viewer.allows(Action::Read));
        assert!(!Permission::Viewer.allows(Action::EditItems));
        assert!(!Permission::Viewer.allows(Action::Manage));
    }

    #[test]
    fn outsider_is_denied_even_reading() {
        assert!(matches!(
            require(None, Action::Read),
            Err(ListsError::PermissionDenied("access denied"))
        ));
    }

    #[test]
    fn only_editor_and_viewer_can_be_assigned() {
        assert_eq!(
            Permission::assignable("Editor").ok(),
            Some(Permission::Editor)
        );
        assert_eq!(
            Permission::assignable("Viewer").ok(),
            Some(Permission::Viewer)
        );
        assert!(matches!(
            Permission::assignable("Owner"),
            Err(ListsError::Invalid(_))
        ));
    }

    #[test]
    fn unknown_permission_names_the_choices() {
        assert_eq!(
            pulse_testkit::invalid_message(Permission::assignable("Boss")),
            "unknown permission 'Boss' (expected Editor or Viewer)"
        );
    }

    #[test]
    fn permission_names_are_case_sensitive() {
        assert!(Permission::assignable("editor").is_err());
        assert_eq!(Permission::from_stored("viewer"), None);
    }
}
