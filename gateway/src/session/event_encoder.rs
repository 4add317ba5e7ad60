//! Bus events as SignalR server→client invocations.

use pulse_proto::EventName;

use crate::{
    node::{EncodedEvent, EventEncoder, Frame},
    protocol::{EventPayload, Protocol},
};

/// Encodes an event as `Invocation { target: <event name>, arguments:
/// [payload] }` for one hub protocol, the payload an [`EventPayload`].
#[derive(Debug, Clone, Copy)]
pub struct SignalrEncoder {
    protocol: Protocol,
}

impl SignalrEncoder {
    pub fn new(protocol: Protocol) -> Self {
        Self { protocol }
    }
}

impl EventEncoder for SignalrEncoder {
    fn key(&self) -> &'static str {
        self.protocol.name()
    }

    fn encode(&self, event: EncodedEvent<'_>) -> Option<Frame> {
        let target = event.payload.name()?;
        let push = EventPayload {
            payload: event.payload,
            sequence: event.envelope.sequence,
        };
        match self.protocol.encode_invocation(target, &push) {
            Ok(bytes) => Some(Frame::new(self.protocol.transfer_format(), bytes)),
            Err(error) => {
                tracing::error!(%error, target, "cannot encode event");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_proto::{
        events::v1::{Event, EventEnvelope},
        lists::v1::{event::Kind, UserLeft},
    };

    #[test]
    fn event_becomes_an_invocation_with_payload_and_sequence() {
        let payload = Event::from(Kind::UserLeft(UserLeft {
            event_type: "UserLeft".into(),
            list_id: "l".into(),
            user_id: "u".into(),
            display_name: "Ann".into(),
            timestamp: "t".into(),
        }));
        let envelope = EventEnvelope {
            sequence: 7,
            ..Default::default()
        };
        let frame = SignalrEncoder::new(Protocol::Json)
            .encode(EncodedEvent {
                envelope: &envelope,
                payload: &payload,
            })
            .expect("encodes");
        assert!(frame.is_text(), "JSON goes in text frames");
        let (record, terminator) = frame.bytes().split_at(frame.len() - 1);
        assert_eq!(terminator, b"\x1e");
        let value: serde_json::Value = serde_json::from_slice(record).expect("json");
        assert_eq!(
            value,
            serde_json::json!({"type": 1, "target": "UserLeft", "arguments": [{
                "eventType": "UserLeft", "listId": "l", "userId": "u",
                "displayName": "Ann", "timestamp": "t", "sequence": 7
            }]})
        );
    }

    #[test]
    fn messagepack_carries_the_same_payload_as_a_map_with_the_same_keys() {
        use pulse_proto::lists::v1::{Item, ItemAdded, UserRef};

        use crate::protocol::{HubMessage, MessageReader};

        let payload = Event::from(Kind::ItemAdded(ItemAdded {
            event_type: "ItemAdded".into(),
            list_id: "l".into(),
            item: Some(Item {
                id: "i".into(),
                name: "Milk".into(),
                quantity: 2.0,
                created_by: Some(UserRef {
                    id: "u".into(),
                    display_name: "Ann".into(),
                }),
                ..Default::default()
            }),
            timestamp: "t".into(),
        }));
        let envelope = EventEnvelope {
            sequence: 9,
            ..Default::default()
        };
        let event = EncodedEvent {
            envelope: &envelope,
            payload: &payload,
        };
        let arguments = |protocol: Protocol| {
            let frame = SignalrEncoder::new(protocol)
                .encode(event)
                .expect("encodes");
            assert_eq!(
                frame,
                Frame::new(
                    protocol.transfer_format(),
                    bytes::Bytes::copy_from_slice(frame.bytes())
                )
            );
            let mut reader = MessageReader::new(protocol, usize::MAX);
            reader.push(frame.bytes());
            match reader.next_message() {
                Ok(Some(HubMessage::Invocation { arguments, .. })) => arguments,
                other => panic!("{protocol:?}: {other:?}"),
            }
        };
        let json = arguments(Protocol::Json);
        assert_eq!(json[0]["item"]["createdBy"]["displayName"], "Ann");
        assert_eq!(json[0]["item"]["purchasedAt"], serde_json::Value::Null);
        assert_eq!(json[0]["sequence"], 9);
        assert_eq!(arguments(Protocol::MessagePack), json);
    }
}
