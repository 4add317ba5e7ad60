//! The SignalR target name of an event.

use crate::events::v1::Event;

/// The client-visible name of an event (`ItemAdded`, ...): the PascalCase name
/// of its field in its domain's `Event.kind` oneof, which is also the SignalR
/// invocation target. Implemented for each domain's `event::Kind` by
/// `build.rs` (see `event_kind.rs`) and for the envelope's `Event`.
pub trait EventName {
    fn name(&self) -> Option<&'static str>;
}

impl EventName for Event {
    fn name(&self) -> Option<&'static str> {
        self.kind()?.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::v1::{event::Kind, ItemDeleted, UserRef};

    #[test]
    fn event_name_is_the_pascal_case_oneof_field() {
        let event = Event::from(Kind::ItemDeleted(ItemDeleted::default()));
        assert_eq!(event.name(), Some("ItemDeleted"));
        assert_eq!(Event::default().name(), None);
    }

    #[test]
    fn payload_serializes_camel_case_with_nulls_for_absent_options() {
        let deleted = ItemDeleted {
            event_type: "ItemDeleted".into(),
            list_id: "l".into(),
            item_id: "i".into(),
            deleted_by: Some(UserRef {
                id: "u".into(),
                display_name: "Ann".into(),
            }),
            timestamp: "t".into(),
        };
        let expected = serde_json::json!({
            "eventType": "ItemDeleted", "listId": "l", "itemId": "i",
            "deletedBy": {"id": "u", "displayName": "Ann"}, "timestamp": "t"
        });
        let kind = Kind::ItemDeleted(deleted);
        assert_eq!(serde_json::to_value(&kind).expect("serializes"), expected);
        // The envelope's event, both levels of oneof, is the payload alone.
        let event = Event::from(kind);
        assert_eq!(serde_json::to_value(&event).expect("serializes"), expected);
        let absent =
            serde_json::to_value(Kind::ItemDeleted(ItemDeleted::default())).expect("serializes");
        assert_eq!(absent["deletedBy"], serde_json::Value::Null);
    }
}
