//! Writing JSON records exactly as .NET does: fixed property order, optional properties left
//! out rather than `null`, so clients and their tests written against .NET see the same bytes.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::protocol::error::ProtocolError;
use crate::protocol::message::{CompletionOutcome, HubMessage};

/// Keep-alives are frequent and always identical.
const PING: &[u8] = b"{\"type\":6}\x1e";

/// Writes one complete record, terminator included.
pub(crate) fn encode(message: &HubMessage) -> Bytes {
    let mut out = Vec::with_capacity(64);
    match message {
        HubMessage::Invocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => write_call(
            &mut out,
            1,
            invocation_id.as_deref(),
            target,
            arguments,
            stream_ids,
        ),
        HubMessage::StreamItem {
            invocation_id,
            item,
        } => {
            write_head(&mut out, 2, Some(invocation_id));
            write_property(&mut out, "item");
            write_value(&mut out, item);
        }
        HubMessage::Completion {
            invocation_id,
            outcome,
        } => {
            write_head(&mut out, 3, Some(invocation_id));
            match outcome {
                CompletionOutcome::Result(result) => {
                    write_property(&mut out, "result");
                    write_value(&mut out, result);
                }
                CompletionOutcome::Error(error) if !error.is_empty() => {
                    write_property(&mut out, "error");
                    write_string(&mut out, error);
                }
                CompletionOutcome::Error(_) | CompletionOutcome::Void => {}
            }
        }
        HubMessage::StreamInvocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => write_call(
            &mut out,
            4,
            Some(invocation_id),
            target,
            arguments,
            stream_ids,
        ),
        HubMessage::CancelInvocation { invocation_id } => {
            write_head(&mut out, 5, Some(invocation_id))
        }
        HubMessage::Ping => return Bytes::from_static(PING),
        HubMessage::Close {
            error,
            allow_reconnect,
        } => {
            write_head(&mut out, 7, None);
            if let Some(error) = error.as_deref().filter(|error| !error.is_empty()) {
                write_property(&mut out, "error");
                write_string(&mut out, error);
            }
            if *allow_reconnect {
                out.extend_from_slice(b",\"allowReconnect\":true");
            }
        }
        HubMessage::Ack { sequence_id } => write_sequence(&mut out, 8, *sequence_id),
        HubMessage::Sequence { sequence_id } => write_sequence(&mut out, 9, *sequence_id),
    }
    out.extend_from_slice(b"}\x1e");
    Bytes::from(out)
}

/// Writes `{"type":1,"target":…,"arguments":[argument]}` + 0x1E, serializing `argument` straight
/// into the record so a broadcast costs one serialization however many connections receive it.
pub(crate) fn encode_invocation<T: Serialize + ?Sized>(
    target: &str,
    argument: &T,
) -> Result<Bytes, ProtocolError> {
    let mut out = Vec::with_capacity(128);
    write_head(&mut out, 1, None);
    write_property(&mut out, "target");
    write_string(&mut out, target);
    out.extend_from_slice(b",\"arguments\":[");
    serde_json::to_writer(&mut out, argument)
        .map_err(|error| ProtocolError::Serialize(error.to_string()))?;
    out.extend_from_slice(b"]}\x1e");
    Ok(Bytes::from(out))
}

/// Invocation and StreamInvocation share their layout and differ in `type`.
fn write_call(
    out: &mut Vec<u8>,
    kind: u8,
    invocation_id: Option<&str>,
    target: &str,
    arguments: &[Value],
    stream_ids: &[String],
) {
    write_head(out, kind, invocation_id);
    write_property(out, "target");
    write_string(out, target);
    write_property(out, "arguments");
    write_list(out, arguments, write_value);
    if !stream_ids.is_empty() {
        write_property(out, "streamIds");
        write_list(out, stream_ids, |out, id| write_string(out, id));
    }
}

/// `{"type":N` and, when given, `,"invocationId":"…"`, the prefix .NET starts every message with.
/// `kind` is a single digit (1–9).
fn write_head(out: &mut Vec<u8>, kind: u8, invocation_id: Option<&str>) {
    out.extend_from_slice(b"{\"type\":");
    out.push(b'0' + kind);
    if let Some(id) = invocation_id {
        write_property(out, "invocationId");
        write_string(out, id);
    }
}

fn write_sequence(out: &mut Vec<u8>, kind: u8, sequence_id: u64) {
    write_head(out, kind, None);
    write_property(out, "sequenceId");
    out.extend_from_slice(sequence_id.to_string().as_bytes());
}

/// `,"name":`; every property after `type` needs the comma.
fn write_property(out: &mut Vec<u8>, name: &str) {
    out.push(b',');
    write_string(out, name);
    out.push(b':');
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], write_item: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_item(out, item);
    }
    out.push(b']');
}

/// Compact JSON via serde_json's own formatter, so payloads read back exactly as written.
fn write_value(out: &mut Vec<u8>, value: &Value) {
    out.extend_from_slice(value.to_string().as_bytes());
}

/// A JSON string literal, escaped as serde_json escapes (quote, backslash, control characters).
pub(crate) fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for byte in text.bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x00..=0x1F => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0F)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::protocol::json::{decode, RECORD_SEPARATOR};

    fn written(message: &HubMessage) -> String {
        String::from_utf8(encode(message).to_vec()).expect("utf-8 output")
    }

    #[test]
    fn server_output_matches_dotnet_byte_for_byte() {
        let completion = |outcome| HubMessage::Completion {
            invocation_id: "0".to_owned(),
            outcome,
        };
        let cases = [
            (
                completion(CompletionOutcome::Result(json!(42))),
                "{\"type\":3,\"invocationId\":\"0\",\"result\":42}\x1e",
            ),
            (
                completion(CompletionOutcome::Result(Value::Null)),
                "{\"type\":3,\"invocationId\":\"0\",\"result\":null}\x1e",
            ),
            (
                completion(CompletionOutcome::Void),
                "{\"type\":3,\"invocationId\":\"0\"}\x1e",
            ),
            (
                completion(CompletionOutcome::Error("It didn't work!".to_owned())),
                "{\"type\":3,\"invocationId\":\"0\",\"error\":\"It didn't work!\"}\x1e",
            ),
            (
                HubMessage::StreamItem {
                    invocation_id: "2".to_owned(),
                    item: json!(0),
                },
                "{\"type\":2,\"invocationId\":\"2\",\"item\":0}\x1e",
            ),
            (
                HubMessage::Invocation {
                    invocation_id: None,
                    target: "ReceiveMessage".to_owned(),
                    arguments: vec![json!("hi")],
                    stream_ids: vec![],
                },
                "{\"type\":1,\"target\":\"ReceiveMessage\",\"arguments\":[\"hi\"]}\x1e",
            ),
            (
                HubMessage::Invocation {
                    invocation_id: Some("7".to_owned()),
                    target: "GetName".to_owned(),
                    arguments: vec![],
                    stream_ids: vec![],
                },
                "{\"type\":1,\"invocationId\":\"7\",\"target\":\"GetName\",\"arguments\":[]}\x1e",
            ),
            (HubMessage::Ping, "{\"type\":6}\x1e"),
            (
                HubMessage::Close {
                    error: None,
                    allow_reconnect: false,
                },
                "{\"type\":7}\x1e",
            ),
            (
                HubMessage::Close {
                    error: Some("Connection closed with an error.".to_owned()),
                    allow_reconnect: false,
                },
                "{\"type\":7,\"error\":\"Connection closed with an error.\"}\x1e",
            ),
            (
                HubMessage::Close {
                    error: Some("Connection closed with an error.".to_owned()),
                    allow_reconnect: true,
                },
                "{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\x1e",
            ),
            (
                HubMessage::Ack { sequence_id: 36 },
                "{\"type\":8,\"sequenceId\":36}\x1e",
            ),
            (
                HubMessage::Sequence { sequence_id: 19 },
                "{\"type\":9,\"sequenceId\":19}\x1e",
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(written(&message), expected);
        }
    }

    #[test]
    fn empty_error_is_never_written() {
        let completion = HubMessage::Completion {
            invocation_id: "0".to_owned(),
            outcome: CompletionOutcome::Error(String::new()),
        };
        assert_eq!(
            written(&completion),
            "{\"type\":3,\"invocationId\":\"0\"}\x1e"
        );
        let close = HubMessage::Close {
            error: Some(String::new()),
            allow_reconnect: true,
        };
        assert_eq!(written(&close), "{\"type\":7,\"allowReconnect\":true}\x1e");
    }

    #[test]
    fn strings_are_escaped_and_never_contain_a_raw_separator() {
        let text = "quote \" backslash \\ newline \n separator \u{1e} nul \0 é";
        let message = HubMessage::StreamItem {
            invocation_id: text.to_owned(),
            item: json!(text),
        };
        let bytes = encode(&message);
        let (last, record) = bytes.split_last().expect("non-empty record");
        assert_eq!(*last, RECORD_SEPARATOR);
        assert!(!record.contains(&RECORD_SEPARATOR));
        assert_eq!(decode(record), Ok(Some(message)));
    }

    #[test]
    fn broadcast_invocation_serializes_the_argument_in_place() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ItemAdded<'a> {
            list_id: u32,
            title: &'a str,
        }
        let bytes = encode_invocation(
            "ItemAdded",
            &ItemAdded {
                list_id: 3,
                title: "milk",
            },
        )
        .expect("serializable argument");
        assert_eq!(
            &bytes[..],
            b"{\"type\":1,\"target\":\"ItemAdded\",\"arguments\":[{\"listId\":3,\"title\":\"milk\"}]}\x1e"
        );
    }

    #[test]
    fn broadcast_invocation_reads_back_like_a_generic_one() {
        let bytes = encode_invocation("Tick", &[1, 2]).expect("serializable argument");
        let expected = HubMessage::Invocation {
            invocation_id: None,
            target: "Tick".to_owned(),
            arguments: vec![json!([1, 2])],
            stream_ids: vec![],
        };
        assert_eq!(bytes, encode(&expected));
    }

    #[test]
    fn unserializable_argument_is_an_error() {
        let argument = BTreeMap::from([((1, 2), 3)]);
        assert!(matches!(
            encode_invocation("T", &argument),
            Err(ProtocolError::Serialize(_))
        ));
    }
}
