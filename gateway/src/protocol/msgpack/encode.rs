//! Writing MessagePack records as .NET does: Invocations with 6 elements (empty stream ids),
//! Completions with 4 elements when void and 5 otherwise, Close with its 3 elements, Ping as
//! `91 06`, each body behind its VarInt length prefix.

use bytes::Bytes;
use rmp::encode as mp;
use serde::Serialize;
use serde_json::Value;

use super::varint::write_prefix;
use crate::protocol::error::ProtocolError;
use crate::protocol::message::{CompletionOutcome, HubMessage};

/// Keep-alives are frequent and always identical: prefix 2, `[6]`.
const PING: &[u8] = &[0x02, 0x91, 0x06];
/// An empty headers map (`0x80`), written where a message type has headers.
const NO_HEADERS: u8 = 0x80;

/// Writes one complete record, length prefix included.
pub(crate) fn encode(message: &HubMessage) -> Bytes {
    if *message == HubMessage::Ping {
        return Bytes::from_static(PING);
    }
    let mut body = Vec::with_capacity(64);
    match message {
        HubMessage::Invocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => write_call(
            &mut body,
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
            write_head(&mut body, 4, 2);
            write_str(&mut body, invocation_id);
            write_value(&mut body, item);
        }
        HubMessage::Completion {
            invocation_id,
            outcome,
        } => match outcome {
            CompletionOutcome::Result(result) => {
                write_head(&mut body, 5, 3);
                write_str(&mut body, invocation_id);
                write_uint(&mut body, 3);
                write_value(&mut body, result);
            }
            CompletionOutcome::Error(error) if !error.is_empty() => {
                write_head(&mut body, 5, 3);
                write_str(&mut body, invocation_id);
                write_uint(&mut body, 1);
                write_str(&mut body, error);
            }
            CompletionOutcome::Error(_) | CompletionOutcome::Void => {
                write_head(&mut body, 4, 3);
                write_str(&mut body, invocation_id);
                write_uint(&mut body, 2);
            }
        },
        HubMessage::StreamInvocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => write_call(
            &mut body,
            4,
            Some(invocation_id),
            target,
            arguments,
            stream_ids,
        ),
        HubMessage::CancelInvocation { invocation_id } => {
            write_head(&mut body, 3, 5);
            write_str(&mut body, invocation_id);
        }
        HubMessage::Close {
            error,
            allow_reconnect,
        } => {
            write_array_len(&mut body, 3);
            write_uint(&mut body, 7);
            match error.as_deref().filter(|error| !error.is_empty()) {
                Some(error) => write_str(&mut body, error),
                None => body.push(0xc0),
            }
            body.push(if *allow_reconnect { 0xc3 } else { 0xc2 });
        }
        HubMessage::Ack { sequence_id } | HubMessage::Sequence { sequence_id } => {
            let kind = if matches!(message, HubMessage::Ack { .. }) {
                8
            } else {
                9
            };
            write_array_len(&mut body, 2);
            write_uint(&mut body, kind);
            write_uint(&mut body, *sequence_id);
        }
        HubMessage::Ping => {}
    }
    framed(&body)
}

/// Writes `[1, {}, nil, target, [argument], []]` behind its prefix, serializing `argument` as a
/// map keyed by its serde field names (camelCase, the same keys as JSON), so a broadcast costs
/// one serialization however many connections receive it.
pub(crate) fn encode_invocation<T: Serialize + ?Sized>(
    target: &str,
    argument: &T,
) -> Result<Bytes, ProtocolError> {
    let mut body = Vec::with_capacity(128);
    write_head(&mut body, 6, 1);
    body.push(0xc0);
    write_str(&mut body, target);
    write_array_len(&mut body, 1);
    argument
        .serialize(&mut rmp_serde::Serializer::new(&mut body).with_struct_map())
        .map_err(|error| ProtocolError::Serialize(error.to_string()))?;
    write_array_len(&mut body, 0);
    Ok(framed(&body))
}

fn framed(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() + 5);
    write_prefix(&mut out, body.len());
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// Invocation and StreamInvocation share their layout and differ in type.
fn write_call(
    out: &mut Vec<u8>,
    kind: u64,
    invocation_id: Option<&str>,
    target: &str,
    arguments: &[Value],
    stream_ids: &[String],
) {
    write_head(out, 6, kind);
    match invocation_id {
        Some(id) => write_str(out, id),
        None => out.push(0xc0),
    }
    write_str(out, target);
    write_array_len(out, arguments.len());
    for argument in arguments {
        write_value(out, argument);
    }
    write_array_len(out, stream_ids.len());
    for id in stream_ids {
        write_str(out, id);
    }
}

/// The array header, the type and the (empty) headers map every message type 1–5 starts with.
fn write_head(out: &mut Vec<u8>, elements: usize, kind: u64) {
    write_array_len(out, elements);
    write_uint(out, kind);
    out.push(NO_HEADERS);
}

// Writing into a `Vec` cannot fail, so the `rmp` results are only a formality.

fn write_array_len(out: &mut Vec<u8>, len: usize) {
    let _ = mp::write_array_len(out, u32::try_from(len).unwrap_or(u32::MAX));
}

fn write_map_len(out: &mut Vec<u8>, len: usize) {
    let _ = mp::write_map_len(out, u32::try_from(len).unwrap_or(u32::MAX));
}

fn write_uint(out: &mut Vec<u8>, value: u64) {
    let _ = mp::write_uint(out, value);
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    let _ = mp::write_str(out, text);
}

/// A JSON value as MessagePack: objects become maps with string keys.
fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(flag) => out.push(if *flag { 0xc3 } else { 0xc2 }),
        Value::Number(number) => {
            if let Some(unsigned) = number.as_u64() {
                write_uint(out, unsigned);
            } else if let Some(signed) = number.as_i64() {
                let _ = mp::write_sint(out, signed);
            } else {
                let _ = mp::write_f64(out, number.as_f64().unwrap_or(f64::NAN));
            }
        }
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            write_array_len(out, items.len());
            for item in items {
                write_value(out, item);
            }
        }
        Value::Object(map) => {
            write_map_len(out, map.len());
            for (key, item) in map {
                write_str(out, key);
                write_value(out, item);
            }
        }
    }
}
