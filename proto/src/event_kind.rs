//! The two levels of an event: the envelope's `Event` names a domain, the
//! domain's own `Event` (`pulse/<domain>/v1/events.proto`) names the event.
//! `build.rs` reads both oneofs from the descriptors and calls the macros
//! below with them (`envelope!` once, `domain!` per domain), so no shared
//! file lists the events, and code outside a domain reads every domain's
//! events through [`EventKind`] alone.

use crate::{
    events::v1::{event::Domain, Event},
    EventFacts, EventName,
};

/// One domain's event oneof (`pulse_proto::lists::v1::event::Kind`, ...),
/// as code that serves every domain (the gateway) reads it.
pub trait EventKind: EventName {
    /// What the event means beyond its payload: its domain's
    /// `event_facts.rs`.
    fn facts(&self) -> &dyn EventFacts;
}

/// [`Event::kind`], and each domain's conversions: a service writes
/// `Event::from(Kind::ItemAdded(..))` (or passes its `Kind` where an
/// `impl Into<Event>` is asked) and never names its envelope variant.
macro_rules! envelope {
    ($($variant:ident($domain:ident)),* $(,)?) => {
        impl Event {
            /// The event inside its domain; `None` when the envelope carries
            /// none or one this version does not know (a newer domain or
            /// event is skipped by the decoder).
            pub fn kind(&self) -> Option<&dyn EventKind> {
                match self.domain.as_ref()? {
                    $(Domain::$variant(event) => event.kind.as_ref().map(|kind| kind as _),)*
                }
            }
        }

        $(
            impl From<crate::$domain::v1::event::Kind> for Event {
                fn from(kind: crate::$domain::v1::event::Kind) -> Self {
                    let event = crate::$domain::v1::Event { kind: Some(kind) };
                    Self { domain: Some(Domain::$variant(event)) }
                }
            }

            /// The domain's event, or the envelope's `Event` back when it is
            /// another domain's (or none).
            impl TryFrom<Event> for crate::$domain::v1::event::Kind {
                type Error = Event;

                fn try_from(event: Event) -> Result<Self, Event> {
                    match event.domain {
                        Some(Domain::$variant(crate::$domain::v1::Event { kind: Some(kind) })) => {
                            Ok(kind)
                        }
                        domain => Err(Event { domain }),
                    }
                }
            }
        )*
    };
}

/// A domain's [`EventKind`]: its name is the variant's (strum), its facts
/// its payload's.
macro_rules! domain {
    ($domain:ident: $($event:ident),* $(,)?) => {
        impl EventName for crate::$domain::v1::event::Kind {
            fn name(&self) -> Option<&'static str> {
                Some(self.into())
            }
        }

        impl EventKind for crate::$domain::v1::event::Kind {
            fn facts(&self) -> &dyn EventFacts {
                match self {
                    $(Self::$event(event) => event,)*
                }
            }
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/events.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        leancoffee::v1::{event::Kind as LeanCoffeeKind, VoteCast},
        lists::v1::{event::Kind, ItemAdded},
    };

    #[test]
    fn a_domain_kind_goes_into_the_envelope_and_back() {
        let event = Event::from(Kind::ItemAdded(ItemAdded::default()));
        assert_eq!(event.kind().and_then(EventName::name), Some("ItemAdded"));
        assert_eq!(
            Kind::try_from(event),
            Ok(Kind::ItemAdded(ItemAdded::default()))
        );
    }

    #[test]
    fn another_domains_event_is_handed_back() {
        let vote = Event::from(LeanCoffeeKind::VoteCast(VoteCast::default()));
        assert_eq!(Kind::try_from(vote.clone()), Err(vote));
        assert!(Event::default().kind().is_none());
    }
}
