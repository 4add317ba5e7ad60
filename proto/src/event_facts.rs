//! What an event means beyond its payload, declared by each domain beside
//! its own messages (`src/{domain}/event_facts.rs`): the dispatch from the
//! envelope's events to them is generated from `envelope.proto`, so no
//! shared file lists the events. An event whose payload has no
//! [`EventFacts`] implementation does not compile.

use crate::events::v1::event::Kind;

/// The facts of one kind of event payload. Each default is what most events
/// are: an implementation states only where its events differ.
pub trait EventFacts {
    /// The user whose access to the group this event ends, if any: gateways
    /// deliver the event to that user too, then remove all their connections
    /// from the group.
    fn revoked_member(&self) -> Option<&str> {
        None
    }
}

include!(concat!(env!("OUT_DIR"), "/event_facts.rs"));

/// The user whose access this event revokes, if any (see
/// [`EventFacts::revoked_member`]).
pub fn revoked_member(kind: &Kind) -> Option<&str> {
    facts(kind).revoked_member()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::v1::{CollaboratorRemoved, ItemAdded};

    #[test]
    fn only_the_removal_of_a_collaborator_revokes_a_member() {
        let removal = Kind::CollaboratorRemoved(CollaboratorRemoved {
            user_id: "bob".into(),
            ..Default::default()
        });
        assert_eq!(revoked_member(&removal), Some("bob"));
        assert_eq!(revoked_member(&Kind::ItemAdded(ItemAdded::default())), None);
    }
}
