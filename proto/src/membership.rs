//! Events that end a user's membership of the group they are sent to.

use crate::events::v1::event::Kind;

/// The user whose access this event revokes, if any: gateways deliver the
/// event to that user too, then remove all their connections from the group.
pub fn revoked_member(kind: &Kind) -> Option<&str> {
    match kind {
        Kind::CollaboratorRemoved(event) => Some(&event.user_id),
        Kind::ItemAdded(_)
        | Kind::ItemUpdated(_)
        | Kind::ItemDeleted(_)
        | Kind::ItemPurchasedStatusChanged(_)
        | Kind::ListUpdated(_)
        | Kind::ListArchived(_)
        | Kind::ItemsReordered(_)
        | Kind::CollaboratorAdded(_)
        | Kind::CollaboratorPermissionChanged(_)
        | Kind::UserJoined(_)
        | Kind::UserLeft(_)
        | Kind::ParticipantJoined(_)
        | Kind::ParticipantLeft(_)
        | Kind::TopicAdded(_)
        | Kind::TopicEdited(_)
        | Kind::TopicDeleted(_)
        | Kind::TopicStatusChanged(_)
        | Kind::VoteCast(_)
        | Kind::VoteRemoved(_)
        | Kind::SessionStatusChanged(_) => None,
    }
}
