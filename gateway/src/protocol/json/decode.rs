//! Reading JSON records as the JS client writes them: any property order (`type` usually last),
//! headers ignored, unknown message types skipped.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::protocol::error::ProtocolError;
use crate::protocol::message::{CompletionOutcome, HubMessage};

/// Every property any message type may carry; which are required depends on `type`, known only
/// once the whole object is read (the JS client writes it last).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMessage {
    #[serde(rename = "type")]
    kind: Option<i64>,
    invocation_id: Option<String>,
    target: Option<String>,
    arguments: Option<Vec<Value>>,
    stream_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    item: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    error: Option<String>,
    allow_reconnect: Option<bool>,
    sequence_id: Option<u64>,
}

/// Tells `"item":null` (a null item) apart from no `item` at all (an invalid StreamItem).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// Parses one record without its terminator. `Ok(None)` is a message type this server does not
/// know, which receivers must skip.
pub(crate) fn decode(record: &[u8]) -> Result<Option<HubMessage>, ProtocolError> {
    let wire: WireMessage = parse_object(record)?;
    let Some(kind) = wire.kind else {
        return Err(ProtocolError::MissingProperty("type"));
    };
    let message = match kind {
        1 => HubMessage::Invocation {
            invocation_id: wire.invocation_id.filter(|id| !id.is_empty()),
            target: required(wire.target, "target")?,
            arguments: required(wire.arguments, "arguments")?,
            stream_ids: wire.stream_ids.unwrap_or_default(),
        },
        2 => HubMessage::StreamItem {
            invocation_id: required(wire.invocation_id, "invocationId")?,
            item: required(wire.item, "item")?,
        },
        3 => HubMessage::Completion {
            invocation_id: required(wire.invocation_id, "invocationId")?,
            outcome: match (wire.result, wire.error) {
                (Some(_), Some(_)) => return Err(ProtocolError::ErrorAndResult),
                (Some(result), None) => CompletionOutcome::Result(result),
                (None, Some(error)) => CompletionOutcome::Error(error),
                (None, None) => CompletionOutcome::Void,
            },
        },
        4 => HubMessage::StreamInvocation {
            invocation_id: required(
                wire.invocation_id.filter(|id| !id.is_empty()),
                "invocationId",
            )?,
            target: required(wire.target, "target")?,
            arguments: required(wire.arguments, "arguments")?,
            stream_ids: wire.stream_ids.unwrap_or_default(),
        },
        5 => HubMessage::CancelInvocation {
            invocation_id: required(wire.invocation_id, "invocationId")?,
        },
        6 => HubMessage::Ping,
        7 => HubMessage::Close {
            error: wire.error.filter(|error| !error.is_empty()),
            allow_reconnect: wire.allow_reconnect.unwrap_or(false),
        },
        8 => HubMessage::Ack {
            sequence_id: required(wire.sequence_id, "sequenceId")?,
        },
        9 => HubMessage::Sequence {
            sequence_id: required(wire.sequence_id, "sequenceId")?,
        },
        _ => return Ok(None),
    };
    Ok(Some(message))
}

/// Deserializes a record that must be a JSON object: serde would otherwise also accept an array
/// of the fields in declaration order, which no SignalR peer sends.
pub(crate) fn parse_object<'de, T: Deserialize<'de>>(
    record: &'de [u8],
) -> Result<T, ProtocolError> {
    match record.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{') => serde_json::from_slice(record)
            .map_err(|error| ProtocolError::Malformed(error.to_string())),
        _ => Err(ProtocolError::Malformed(
            "expected a JSON object".to_owned(),
        )),
    }
}

fn required<T>(value: Option<T>, property: &'static str) -> Result<T, ProtocolError> {
    value.ok_or(ProtocolError::MissingProperty(property))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(text: &str) -> Result<Option<HubMessage>, ProtocolError> {
        decode(text.as_bytes())
    }

    fn read_message(text: &str) -> HubMessage {
        read(text)
            .expect("valid message")
            .expect("known message type")
    }

    #[test]
    fn js_client_invoke_with_type_last_is_read() {
        assert_eq!(
            read_message(r#"{"target":"Send","arguments":[42,"x"],"invocationId":"0","type":1}"#),
            HubMessage::Invocation {
                invocation_id: Some("0".to_owned()),
                target: "Send".to_owned(),
                arguments: vec![json!(42), json!("x")],
                stream_ids: vec![],
            }
        );
    }

    #[test]
    fn js_client_send_has_no_invocation_id() {
        assert_eq!(
            read_message(r#"{"target":"Send","arguments":[42],"type":1}"#),
            HubMessage::Invocation {
                invocation_id: None,
                target: "Send".to_owned(),
                arguments: vec![json!(42)],
                stream_ids: vec![],
            }
        );
    }

    #[test]
    fn js_client_upload_invocation_carries_stream_ids() {
        assert_eq!(
            read_message(
                r#"{"target":"Up","arguments":[],"invocationId":"1","streamIds":["0"],"type":1}"#
            ),
            HubMessage::Invocation {
                invocation_id: Some("1".to_owned()),
                target: "Up".to_owned(),
                arguments: vec![],
                stream_ids: vec!["0".to_owned()],
            }
        );
    }

    #[test]
    fn js_client_stream_invocation_is_read() {
        assert_eq!(
            read_message(r#"{"target":"Counter","arguments":[3],"invocationId":"2","type":4}"#),
            HubMessage::StreamInvocation {
                invocation_id: "2".to_owned(),
                target: "Counter".to_owned(),
                arguments: vec![json!(3)],
                stream_ids: vec![],
            }
        );
    }

    #[test]
    fn js_client_upload_item_end_and_error_are_read() {
        assert_eq!(
            read_message(r#"{"invocationId":"0","item":7,"type":2}"#),
            HubMessage::StreamItem {
                invocation_id: "0".to_owned(),
                item: json!(7),
            }
        );
        assert_eq!(
            read_message(r#"{"invocationId":"0","type":3}"#),
            HubMessage::Completion {
                invocation_id: "0".to_owned(),
                outcome: CompletionOutcome::Void,
            }
        );
        assert_eq!(
            read_message(r#"{"error":"msg","invocationId":"0","type":3}"#),
            HubMessage::Completion {
                invocation_id: "0".to_owned(),
                outcome: CompletionOutcome::Error("msg".to_owned()),
            }
        );
    }

    #[test]
    fn js_client_result_for_a_server_invocation_is_read() {
        assert_eq!(
            read_message(r#"{"invocationId":"7","result":false,"type":3}"#),
            HubMessage::Completion {
                invocation_id: "7".to_owned(),
                outcome: CompletionOutcome::Result(json!(false)),
            }
        );
    }

    #[test]
    fn js_client_cancel_ping_close_ack_and_sequence_are_read() {
        assert_eq!(
            read_message(r#"{"invocationId":"2","type":5}"#),
            HubMessage::CancelInvocation {
                invocation_id: "2".to_owned()
            }
        );
        assert_eq!(read_message(r#"{"type":6}"#), HubMessage::Ping);
        assert_eq!(
            read_message(r#"{"type":7}"#),
            HubMessage::Close {
                error: None,
                allow_reconnect: false
            }
        );
        assert_eq!(
            read_message(r#"{"type":8,"sequenceId":2}"#),
            HubMessage::Ack { sequence_id: 2 }
        );
        assert_eq!(
            read_message(r#"{"type":9,"sequenceId":1}"#),
            HubMessage::Sequence { sequence_id: 1 }
        );
    }

    #[test]
    fn null_item_is_an_item() {
        assert_eq!(
            read_message(r#"{"type":2,"invocationId":"1","item":null}"#),
            HubMessage::StreamItem {
                invocation_id: "1".to_owned(),
                item: Value::Null,
            }
        );
    }

    #[test]
    fn null_result_is_a_result_not_void() {
        assert_eq!(
            read_message(r#"{"type":3,"invocationId":"1","result":null}"#),
            HubMessage::Completion {
                invocation_id: "1".to_owned(),
                outcome: CompletionOutcome::Result(Value::Null),
            }
        );
    }

    #[test]
    fn headers_are_tolerated_and_dropped() {
        assert_eq!(
            read_message(r#"{"type":5,"headers":{"traceparent":"00-ab"},"invocationId":"3"}"#),
            HubMessage::CancelInvocation {
                invocation_id: "3".to_owned()
            }
        );
    }

    #[test]
    fn empty_invocation_id_means_a_non_blocking_call() {
        let HubMessage::Invocation { invocation_id, .. } =
            read_message(r#"{"type":1,"invocationId":"","target":"T","arguments":[]}"#)
        else {
            panic!("expected an invocation");
        };
        assert_eq!(invocation_id, None);
    }

    #[test]
    fn unknown_message_type_is_skipped_not_an_error() {
        assert_eq!(read(r#"{"type":99,"whatever":[1,2]}"#), Ok(None));
    }

    #[test]
    fn type_as_a_string_is_rejected() {
        assert!(matches!(
            read(r#"{"type":"6"}"#),
            Err(ProtocolError::Malformed(_))
        ));
    }

    #[test]
    fn malformed_json_is_rejected() {
        for text in [r#"{"type":6"#, "", "not json", r#"{"type":6} trailing"#] {
            assert!(
                matches!(read(text), Err(ProtocolError::Malformed(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn array_instead_of_object_is_rejected() {
        assert!(matches!(read("[6]"), Err(ProtocolError::Malformed(_))));
    }

    #[test]
    fn missing_required_properties_are_named() {
        let cases = [
            (r#"{"invocationId":"0"}"#, "type"),
            (r#"{"type":1,"arguments":[]}"#, "target"),
            (r#"{"type":1,"target":"T"}"#, "arguments"),
            (r#"{"type":2,"invocationId":"0"}"#, "item"),
            (r#"{"type":2,"item":1}"#, "invocationId"),
            (r#"{"type":3}"#, "invocationId"),
            (
                r#"{"type":4,"invocationId":"","target":"T","arguments":[]}"#,
                "invocationId",
            ),
            (r#"{"type":5}"#, "invocationId"),
            (r#"{"type":8}"#, "sequenceId"),
            (r#"{"type":9}"#, "sequenceId"),
        ];
        for (text, property) in cases {
            assert_eq!(
                read(text),
                Err(ProtocolError::MissingProperty(property)),
                "{text}"
            );
        }
    }

    #[test]
    fn completion_with_both_error_and_result_is_rejected() {
        assert_eq!(
            read(r#"{"type":3,"invocationId":"0","result":1,"error":"e"}"#),
            Err(ProtocolError::ErrorAndResult)
        );
    }
}
