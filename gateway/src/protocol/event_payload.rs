//! What a client receives for an event: the contract's object plus
//! `sequence`, the event's position in its group, which clients use to
//! resume after a reconnect without gaps or duplicates (`null` for presence
//! notices, which are outside the numbered stream). Live pushes and
//! `GetMissedEvents` both serialize this one definition, in whichever hub
//! protocol the connection speaks.

use pulse_proto::events::v1::Event;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, Serialize)]
pub struct EventPayload<'a> {
    /// The domain's event object alone (both oneof levels serialize
    /// untagged).
    #[serde(flatten)]
    pub payload: &'a Event,
    /// The envelope's sequence; a presence notice's 0 is written as `null`:
    /// it has no place in the numbered stream.
    #[serde(serialize_with = "group_sequence")]
    pub sequence: u64,
}

fn group_sequence<S: Serializer>(sequence: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    match sequence {
        0 => serializer.serialize_none(),
        sequence => serializer.serialize_u64(*sequence),
    }
}

#[cfg(test)]
mod tests {
    use pulse_proto::lists::v1::{event::Kind, UserLeft};

    use super::*;

    #[test]
    fn a_presence_notice_has_a_null_sequence_and_an_event_its_number() {
        let notice = Event::from(Kind::UserLeft(UserLeft::default()));
        let sequence = |sequence| {
            serde_json::to_value(EventPayload {
                payload: &notice,
                sequence,
            })
            .expect("serializes")["sequence"]
                .clone()
        };
        assert_eq!(sequence(0), serde_json::Value::Null);
        assert_eq!(sequence(5), serde_json::json!(5));
    }
}
