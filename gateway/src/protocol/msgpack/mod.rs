//! The MessagePack hub protocol (`"messagepack"`, binary transfer format): each message is a
//! positional MessagePack array behind a VarInt length prefix.
//!
//! Payloads cross this module as `serde_json::Value` (incoming) or any `Serialize` type
//! (outgoing events), so hubs never know which protocol a client speaks, and an event is a map
//! with the same camelCase keys in both protocols because both come from one serde definition.

mod decode;
mod encode;
mod value;
mod varint;

pub(crate) use decode::decode;
pub(crate) use encode::{encode, encode_invocation};
pub(crate) use varint::{read_prefix, Prefix};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::{CompletionOutcome, HubMessage};

    /// Splits a record into prefix-checked body.
    fn body(record: &[u8]) -> &[u8] {
        match read_prefix(record) {
            Ok(Prefix::Found { start, length }) => {
                assert_eq!(start + length, record.len(), "prefix matches the record");
                &record[start..]
            }
            other => panic!("no complete prefix: {other:?}"),
        }
    }

    fn read(record: &[u8]) -> HubMessage {
        decode(body(record))
            .expect("valid record")
            .expect("known message type")
    }

    fn invocation(id: Option<&str>, target: &str, arguments: Vec<serde_json::Value>) -> HubMessage {
        HubMessage::Invocation {
            invocation_id: id.map(str::to_owned),
            target: target.to_owned(),
            arguments,
            stream_ids: vec![],
        }
    }

    // Records the 10.0.11 JS client writes (signalr-protocol.md §7.3), byte for byte.

    #[test]
    fn js_client_send_is_a_5_element_invocation_without_id() {
        let record = [
            0x0b, 0x95, 0x01, 0x80, 0xc0, 0xa4, 0x53, 0x65, 0x6e, 0x64, 0x91, 0x2a,
        ];
        assert_eq!(read(&record), invocation(None, "Send", vec![json!(42)]));
    }

    #[test]
    fn js_client_invoke_carries_its_id() {
        let record = [
            0x0e, 0x95, 0x01, 0x80, 0xa1, 0x30, 0xa4, 0x53, 0x65, 0x6e, 0x64, 0x92, 0x2a, 0xa1,
            0x78,
        ];
        assert_eq!(
            read(&record),
            invocation(Some("0"), "Send", vec![json!(42), json!("x")])
        );
    }

    #[test]
    fn js_client_upload_invocation_is_6_elements_with_stream_ids() {
        let record = [
            0x0c, 0x96, 0x01, 0x80, 0xa1, 0x31, 0xa2, 0x55, 0x70, 0x90, 0x91, 0xa1, 0x30,
        ];
        assert_eq!(
            read(&record),
            HubMessage::Invocation {
                invocation_id: Some("1".to_owned()),
                target: "Up".to_owned(),
                arguments: vec![],
                stream_ids: vec!["0".to_owned()],
            }
        );
    }

    #[test]
    fn js_client_stream_invocation_item_and_cancel_are_read() {
        let stream = [
            0x0f, 0x95, 0x04, 0x80, 0xa1, 0x32, 0xa7, 0x43, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72,
            0x91, 0x03,
        ];
        assert_eq!(
            read(&stream),
            HubMessage::StreamInvocation {
                invocation_id: "2".to_owned(),
                target: "Counter".to_owned(),
                arguments: vec![json!(3)],
                stream_ids: vec![],
            }
        );
        assert_eq!(
            read(&[0x06, 0x94, 0x02, 0x80, 0xa1, 0x30, 0x07]),
            HubMessage::StreamItem {
                invocation_id: "0".to_owned(),
                item: json!(7),
            }
        );
        assert_eq!(
            read(&[0x05, 0x93, 0x05, 0x80, 0xa1, 0x32]),
            HubMessage::CancelInvocation {
                invocation_id: "2".to_owned()
            }
        );
    }

    #[test]
    fn js_client_ping_close_ack_and_sequence_are_read() {
        assert_eq!(read(&[0x02, 0x91, 0x06]), HubMessage::Ping);
        assert_eq!(
            read(&[0x03, 0x92, 0x07, 0xc0]),
            HubMessage::Close {
                error: None,
                allow_reconnect: false
            }
        );
        assert_eq!(
            read(&[0x03, 0x92, 0x08, 0x24]),
            HubMessage::Ack { sequence_id: 36 }
        );
        assert_eq!(
            read(&[0x03, 0x92, 0x09, 0x13]),
            HubMessage::Sequence { sequence_id: 19 }
        );
    }

    // What the server writes, byte for byte (the same table and the spec's server examples).

    fn completion(outcome: CompletionOutcome) -> HubMessage {
        HubMessage::Completion {
            invocation_id: "0".to_owned(),
            outcome,
        }
    }

    #[test]
    fn completions_use_result_kind_1_2_and_3() {
        let cases: [(HubMessage, &[u8]); 5] = [
            (
                completion(CompletionOutcome::Void),
                &[0x06, 0x94, 0x03, 0x80, 0xa1, 0x30, 0x02],
            ),
            (
                completion(CompletionOutcome::Result(json!(null))),
                &[0x07, 0x95, 0x03, 0x80, 0xa1, 0x30, 0x03, 0xc0],
            ),
            (
                completion(CompletionOutcome::Result(json!(42))),
                &[0x07, 0x95, 0x03, 0x80, 0xa1, 0x30, 0x03, 0x2a],
            ),
            (
                completion(CompletionOutcome::Error("boom".to_owned())),
                &[
                    0x0b, 0x95, 0x03, 0x80, 0xa1, 0x30, 0x01, 0xa4, 0x62, 0x6f, 0x6f, 0x6d,
                ],
            ),
            (
                completion(CompletionOutcome::Error(String::new())),
                &[0x06, 0x94, 0x03, 0x80, 0xa1, 0x30, 0x02],
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(&encode(&message)[..], expected, "{message:?}");
            if !matches!(&message, HubMessage::Completion { outcome: CompletionOutcome::Error(e), .. } if e.is_empty())
            {
                assert_eq!(read(expected), message);
            }
        }
    }

    #[test]
    fn ping_item_ack_and_sequence_are_written_as_the_js_client_writes_them() {
        let cases: [(HubMessage, &[u8]); 4] = [
            (HubMessage::Ping, &[0x02, 0x91, 0x06]),
            (
                HubMessage::StreamItem {
                    invocation_id: "0".to_owned(),
                    item: json!(7),
                },
                &[0x06, 0x94, 0x02, 0x80, 0xa1, 0x30, 0x07],
            ),
            (
                HubMessage::Ack { sequence_id: 36 },
                &[0x03, 0x92, 0x08, 0x24],
            ),
            (
                HubMessage::Sequence { sequence_id: 19 },
                &[0x03, 0x92, 0x09, 0x13],
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(&encode(&message)[..], expected, "{message:?}");
        }
    }

    #[test]
    fn server_invocation_and_close_match_the_spec_examples() {
        let invocation = encode(&invocation(Some("xyz"), "method", vec![json!(42)]));
        assert_eq!(
            body(&invocation),
            [
                0x96, 0x01, 0x80, 0xa3, 0x78, 0x79, 0x7a, 0xa6, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64,
                0x91, 0x2a, 0x90
            ]
        );
        let close = encode(&HubMessage::Close {
            error: Some("xyz".to_owned()),
            allow_reconnect: true,
        });
        assert_eq!(body(&close), [0x93, 0x07, 0xa3, 0x78, 0x79, 0x7a, 0xc3]);
        let plain = encode(&HubMessage::Close {
            error: None,
            allow_reconnect: false,
        });
        assert_eq!(body(&plain), [0x93, 0x07, 0xc0, 0xc2]);
        assert_eq!(read(&close), {
            HubMessage::Close {
                error: Some("xyz".to_owned()),
                allow_reconnect: true,
            }
        });
    }

    #[test]
    fn broadcast_payload_is_a_map_with_the_serde_field_names() {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ItemAdded<'a> {
            list_id: &'a str,
            sequence: u64,
        }
        let record = encode_invocation(
            "ItemAdded",
            &ItemAdded {
                list_id: "l",
                sequence: 7,
            },
        )
        .expect("serializable");
        assert_eq!(
            read(&record),
            invocation(
                None,
                "ItemAdded",
                vec![json!({"listId": "l", "sequence": 7})]
            )
        );
        assert_eq!(
            encode_invocation("ItemAdded", &json!({"listId": "l", "sequence": 7}))
                .expect("serializable"),
            encode(&invocation(
                None,
                "ItemAdded",
                vec![json!({"listId": "l", "sequence": 7})]
            ))
        );
    }

    #[test]
    fn unknown_types_are_skipped_extra_elements_allowed_and_wrong_shapes_refused() {
        assert_eq!(decode(&[0x92, 0x63, 0x01]), Ok(None));
        assert_eq!(decode(&[0x92, 0x06, 0xc0]), Ok(Some(HubMessage::Ping)));
        let refused: [&[u8]; 8] = [
            &[0x80],
            &[0x90],
            &[0x91, 0xa1, 0x31],
            &[0x94, 0x01, 0x80, 0xc0, 0xa1, 0x54],
            &[0x95, 0x01, 0x80, 0x2a, 0xa1, 0x54, 0x90],
            &[0x94, 0x03, 0x80, 0xa1, 0x30, 0x07],
            &[0x94, 0x03, 0x80, 0xa1, 0x30, 0x03],
            &[0x91, 0x06, 0xc0],
        ];
        for body in refused {
            assert!(decode(body).is_err(), "{body:02x?}");
        }
    }
}
