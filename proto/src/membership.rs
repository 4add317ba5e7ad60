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
        | Kind::SessionStatusChanged(_)
        | Kind::ReceiveMessage(_)
        | Kind::MessageRead(_)
        | Kind::MessageDeleted(_)
        | Kind::GoalAssigned(_)
        | Kind::ClientProgressUpdate(_)
        | Kind::RelationshipUpdated(_)
        | Kind::ReceiveNotification(_)
        | Kind::VideoProgress(_)
        | Kind::VideoCompleted(_)
        | Kind::VideoFailed(_)
        | Kind::ImageProgress(_)
        | Kind::ImageCompleted(_)
        | Kind::ImageFailed(_)
        | Kind::TaskStarted(_)
        | Kind::TaskProgress(_)
        | Kind::TaskCompleted(_)
        | Kind::TaskFailed(_)
        | Kind::SpendUpdate(_)
        | Kind::BudgetAlert(_)
        | Kind::UnusualSpending(_)
        | Kind::WebhookDelivered(_)
        | Kind::WebhookFailed(_)
        | Kind::NavigationUpdated(_)
        | Kind::ProviderHealthChanged(_)
        | Kind::RateLimitWarning(_)
        | Kind::SystemAlert(_)
        | Kind::ConfigurationChanged(_)
        | Kind::VirtualKeyRevoked(_) => None,
    }
}
