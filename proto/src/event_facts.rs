//! What an event means beyond its payload, declared by each domain beside
//! its own messages (`src/{domain}/event_facts.rs`): the dispatch from a
//! domain's events to them is generated from its `events.proto` (see
//! `event_kind.rs`), so no shared file lists the events, and the gateway
//! asks these facts instead of matching events. An event whose payload has
//! no [`EventFacts`] implementation does not compile.

use crate::events::v1::Event;

/// The facts of one kind of event payload. Each default is what most events
/// are: an implementation states only where its events differ.
pub trait EventFacts {
    /// The user whose access to the group this event ends, if any: gateways
    /// deliver the event to that user too, then remove all their connections
    /// from the group.
    fn revoked_member(&self) -> Option<&str> {
        None
    }

    /// The virtual key this event revokes for good, if any: gateways close
    /// every connection that authenticated with it.
    fn revoked_key(&self) -> Option<&str> {
        None
    }
}

/// The user whose access this event revokes, if any (see
/// [`EventFacts::revoked_member`]).
pub fn revoked_member(event: &Event) -> Option<&str> {
    event.kind()?.facts().revoked_member()
}

/// The virtual key this event revokes, if any (see
/// [`EventFacts::revoked_key`]).
pub fn revoked_key(event: &Event) -> Option<&str> {
    event.kind()?.facts().revoked_key()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        lists::v1::{event::Kind, CollaboratorRemoved, ItemAdded},
        tasks::v1::{event::Kind as TaskKind, VirtualKeyRevoked},
    };

    #[test]
    fn only_the_removal_of_a_collaborator_revokes_a_member() {
        let removal = Event::from(Kind::CollaboratorRemoved(CollaboratorRemoved {
            user_id: "bob".into(),
            ..Default::default()
        }));
        assert_eq!(revoked_member(&removal), Some("bob"));
        let added = Event::from(Kind::ItemAdded(ItemAdded::default()));
        assert_eq!(revoked_member(&added), None);
        assert_eq!(revoked_key(&removal), None);
    }

    #[test]
    fn only_a_key_revocation_revokes_a_key() {
        let revoked = Event::from(TaskKind::VirtualKeyRevoked(VirtualKeyRevoked {
            virtual_key_id: "k".into(),
            ..Default::default()
        }));
        assert_eq!(revoked_key(&revoked), Some("k"));
        assert_eq!(revoked_member(&revoked), None);
    }
}
