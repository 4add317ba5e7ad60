//! The SignalR target name of an event.

use crate::events::v1::{event::Kind, Event};

/// The client-visible name of an event (`ItemAdded`, ...): the PascalCase name
/// of its `oneof` field, which is also the SignalR invocation target.
pub trait EventName {
    fn name(&self) -> Option<&'static str>;
}

impl EventName for Event {
    fn name(&self) -> Option<&'static str> {
        self.kind.as_ref().map(<&'static str>::from)
    }
}

impl EventName for Kind {
    fn name(&self) -> Option<&'static str> {
        Some(self.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::v1::{ItemDeleted, UserRef};

    #[test]
    fn event_name_is_the_pascal_case_oneof_field() {
        let event = Event {
            kind: Some(Kind::ItemDeleted(ItemDeleted::default())),
        };
        assert_eq!(event.name(), Some("ItemDeleted"));
    }

    #[test]
    fn payload_serializes_camel_case_with_nulls_for_absent_options() {
        let kind = Kind::ItemDeleted(ItemDeleted {
            event_type: "ItemDeleted".into(),
            list_id: "l".into(),
            item_id: "i".into(),
            deleted_by: Some(UserRef {
                id: "u".into(),
                display_name: "Ann".into(),
            }),
            timestamp: "t".into(),
        });
        let json = serde_json::to_value(&kind).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "eventType": "ItemDeleted", "listId": "l", "itemId": "i",
                "deletedBy": {"id": "u", "displayName": "Ann"}, "timestamp": "t"
            })
        );
        let absent =
            serde_json::to_value(Kind::ItemDeleted(ItemDeleted::default())).expect("serializes");
        assert_eq!(absent["deletedBy"], serde_json::Value::Null);
    }
}
