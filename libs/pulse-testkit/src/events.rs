//! A group's events as a gateway reads them from the bus: decoded
//! envelopes, each checked to be the very next in the group's sequence, so a
//! test sees anything sent twice, out of order or in between.

use futures::StreamExt;
use prost::Message;
use pulse_bus::{Bus, Deliveries, StartAt, Topic};
use pulse_proto::events::v1::{Event, EventEnvelope};

use crate::{EVENT_RETENTION, PATIENCE};

/// One group's events as the bus delivers them.
pub struct Events {
    deliveries: Deliveries,
}

impl Events {
    /// Subscribes to `topic` from `start`. The topic's stream must exist
    /// first; the service's relay creates it too, but asynchronously, so this
    /// creates it if need be (retrying while a just-restarted NATS comes up).
    pub async fn subscribe(bus: &Bus, topic: &Topic, start: StartAt) -> Self {
        ensure_stream(bus, topic).await;
        let deliveries = bus.subscribe(topic, start).await.expect("subscribe");
        Self { deliveries }
    }

    /// The next envelope, whatever it is.
    pub async fn next(&mut self) -> EventEnvelope {
        let delivery = tokio::time::timeout(PATIENCE, self.deliveries.next())
            .await
            .expect("an event in time")
            .expect("subscription open")
            .expect("delivery");
        EventEnvelope::decode(delivery.payload).expect("an EventEnvelope")
    }

    /// The next event, checking that it is the next in sequence: nothing was
    /// sent in between, and nothing twice. [`expect_kind!`](crate::expect_kind)
    /// unwraps it.
    pub async fn expect(&mut self, sequence: u64) -> Event {
        self.expect_envelope(sequence).await.1
    }

    /// [`Events::expect`], also checking that the event is addressed to
    /// every connection in the group (no `except_user_id`).
    pub async fn expect_to_everyone(&mut self, sequence: u64) -> Event {
        let (envelope, event) = self.expect_envelope(sequence).await;
        assert_eq!(envelope.except_user_id, None, "to every connection");
        event
    }

    /// [`Events::expect`] with the envelope, for tests of its addressing.
    pub async fn expect_envelope(&mut self, sequence: u64) -> (EventEnvelope, Event) {
        let envelope = self.next().await;
        assert_eq!(
            envelope.sequence, sequence,
            "unexpected sequence in {envelope:?}"
        );
        let event = envelope
            .event
            .clone()
            .filter(|event| event.kind().is_some())
            .expect("event has a payload");
        (envelope, event)
    }
}

async fn ensure_stream(bus: &Bus, topic: &Topic) {
    crate::wait_until("the stream created", PATIENCE, async || {
        match bus.ensure_stream(topic.kind(), EVENT_RETENTION).await {
            Ok(()) => true,
            Err(error) => {
                eprintln!("stream not ready yet: {error}");
                false
            }
        }
    })
    .await;
}

/// Unwraps one event (`expect_kind!(event, ItemAdded)`) from an envelope's
/// `Event` or a domain's `Kind`, or fails naming what arrived instead. The
/// variant is looked up in the `Kind` in scope where it is used: the test's
/// own domain's (`use pulse_proto::lists::v1::event::Kind;`).
#[macro_export]
macro_rules! expect_kind {
    ($event:expr, $variant:ident) => {
        match Kind::try_from($crate::__private::Event::from($event)) {
            Ok(Kind::$variant(payload)) => payload,
            Ok(other) => panic!("expected {}, got {other:?}", stringify!($variant)),
            Err(other) => panic!("expected {}, got {other:?}", stringify!($variant)),
        }
    };
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use pulse_bus::Namespace;
    use pulse_proto::lists::v1::{event::Kind, ItemAdded};
    use pulse_proto::lists::LIST;

    use super::*;

    fn envelope(sequence: u64, except_user_id: Option<&str>) -> EventEnvelope {
        EventEnvelope {
            sequence,
            except_user_id: except_user_id.map(str::to_owned),
            event: Some(Event::from(Kind::ItemAdded(ItemAdded::default()))),
            ..Default::default()
        }
    }

    /// A subscription to a list on an in-memory bus, then `published` on it.
    async fn events_after(published: &[EventEnvelope]) -> Events {
        let bus = Bus::memory(Namespace::new("testkit").unwrap());
        let topic = LIST.topic(uuid::Uuid::new_v4());
        let events = Events::subscribe(&bus, &topic, StartAt::New).await;
        for (id, envelope) in published.iter().enumerate() {
            bus.publish(&topic, &id.to_string(), envelope.encode_to_vec().into())
                .await
                .unwrap();
        }
        events
    }

    #[tokio::test]
    async fn events_in_sequence_are_expected_in_turn() {
        let mut events = events_after(&[envelope(1, None), envelope(2, Some("bob"))]).await;

        expect_kind!(events.expect_to_everyone(1).await, ItemAdded);
        let (envelope, kind) = events.expect_envelope(2).await;

        assert_eq!(envelope.except_user_id.as_deref(), Some("bob"));
        expect_kind!(kind, ItemAdded);
    }

    #[tokio::test]
    #[should_panic(expected = "unexpected sequence")]
    async fn a_gap_in_the_sequence_fails() {
        let mut events = events_after(&[envelope(2, None)]).await;

        events.expect(1).await;
    }

    #[tokio::test]
    #[should_panic(expected = "to every connection")]
    async fn an_event_to_the_others_is_not_to_everyone() {
        let mut events = events_after(&[envelope(1, Some("bob"))]).await;

        events.expect_to_everyone(1).await;
    }

    #[test]
    #[should_panic(expected = "expected UserJoined, got ItemAdded")]
    fn expect_kind_names_what_arrived_instead() {
        expect_kind!(Kind::ItemAdded(ItemAdded::default()), UserJoined);
    }
}
