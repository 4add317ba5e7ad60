//! Reading MessagePack records as the JS client writes them: positional arrays, 5- or 6-element
//! invocations, 2- or 3-element Close, headers tolerated and dropped, unknown types skipped, and
//! extra trailing elements allowed (the spec reserves them for future growth).

use serde_json::Value;

use super::value::Reader;
use crate::protocol::error::ProtocolError;
use crate::protocol::message::{CompletionOutcome, HubMessage};

/// ResultKind of a Completion: the error text follows.
const RESULT_ERROR: u64 = 1;
/// ResultKind of a Completion: no result follows.
const RESULT_VOID: u64 = 2;
/// ResultKind of a Completion: a result (possibly nil) follows.
const RESULT_VALUE: u64 = 3;

fn invalid(text: &str) -> ProtocolError {
    ProtocolError::MalformedBinary(text.to_owned())
}

/// Parses one record body (without its length prefix). `Ok(None)` is a message type this server
/// does not know, which receivers must skip.
pub(crate) fn decode(body: &[u8]) -> Result<Option<HubMessage>, ProtocolError> {
    let mut reader = Reader::new(body);
    let length = reader.array_len()?;
    let mut items = Vec::with_capacity(length);
    for _ in 0..length {
        items.push(reader.value()?);
    }
    if !reader.is_at_end() {
        return Err(invalid("bytes after the message array"));
    }
    let mut fields = Fields { items, index: 0 };
    let kind = fields.uint("message type")?;
    let message = match kind {
        1 | 4 => {
            fields.headers()?;
            let invocation_id = fields.optional_string("invocation id")?;
            let target = fields.string("target")?;
            let arguments = fields.array("arguments")?;
            // The JS client writes 5 elements without upload streams, 6 with.
            let stream_ids = if fields.remaining() > 0 {
                fields.strings("stream ids")?
            } else {
                Vec::new()
            };
            if kind == 1 {
                HubMessage::Invocation {
                    invocation_id,
                    target,
                    arguments,
                    stream_ids,
                }
            } else {
                HubMessage::StreamInvocation {
                    invocation_id: invocation_id
                        .ok_or_else(|| invalid("stream invocation without id"))?,
                    target,
                    arguments,
                    stream_ids,
                }
            }
        }
        2 => {
            fields.headers()?;
            HubMessage::StreamItem {
                invocation_id: fields.string("invocation id")?,
                item: fields.any("item")?,
            }
        }
        3 => {
            fields.headers()?;
            let invocation_id = fields.string("invocation id")?;
            let outcome = match fields.uint("result kind")? {
                RESULT_ERROR => CompletionOutcome::Error(fields.string("error")?),
                RESULT_VOID => CompletionOutcome::Void,
                RESULT_VALUE => CompletionOutcome::Result(fields.any("result")?),
                _ => return Err(invalid("unknown result kind")),
            };
            HubMessage::Completion {
                invocation_id,
                outcome,
            }
        }
        5 => {
            fields.headers()?;
            HubMessage::CancelInvocation {
                invocation_id: fields.string("invocation id")?,
            }
        }
        6 => HubMessage::Ping,
        7 => HubMessage::Close {
            error: fields.optional_string("error")?,
            // The JS client writes `[7, nil]`; .NET always adds the flag.
            allow_reconnect: if fields.remaining() > 0 {
                fields.bool("allow reconnect")?
            } else {
                false
            },
        },
        8 => HubMessage::Ack {
            sequence_id: fields.uint("sequence id")?,
        },
        9 => HubMessage::Sequence {
            sequence_id: fields.uint("sequence id")?,
        },
        _ => return Ok(None),
    };
    Ok(Some(message))
}

/// The elements of a message array, read in order.
struct Fields {
    items: Vec<Value>,
    index: usize,
}

impl Fields {
    fn remaining(&self) -> usize {
        self.items.len() - self.index
    }

    fn any(&mut self, name: &str) -> Result<Value, ProtocolError> {
        let value = self
            .items
            .get_mut(self.index)
            .map(Value::take)
            .ok_or_else(|| invalid(&format!("missing {name}")))?;
        self.index += 1;
        Ok(value)
    }

    fn uint(&mut self, name: &str) -> Result<u64, ProtocolError> {
        self.any(name)?
            .as_u64()
            .ok_or_else(|| invalid(&format!("{name} is not an unsigned integer")))
    }

    fn bool(&mut self, name: &str) -> Result<bool, ProtocolError> {
        self.any(name)?
            .as_bool()
            .ok_or_else(|| invalid(&format!("{name} is not a boolean")))
    }

    fn string(&mut self, name: &str) -> Result<String, ProtocolError> {
        match self.any(name)? {
            Value::String(text) => Ok(text),
            _ => Err(invalid(&format!("{name} is not a string"))),
        }
    }

    /// A string or nil; an empty string also means none (.NET reads an empty id as no id).
    fn optional_string(&mut self, name: &str) -> Result<Option<String>, ProtocolError> {
        match self.any(name)? {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text).filter(|text| !text.is_empty())),
            _ => Err(invalid(&format!("{name} is not a string"))),
        }
    }

    fn array(&mut self, name: &str) -> Result<Vec<Value>, ProtocolError> {
        match self.any(name)? {
            Value::Array(items) => Ok(items),
            _ => Err(invalid(&format!("{name} is not an array"))),
        }
    }

    fn strings(&mut self, name: &str) -> Result<Vec<String>, ProtocolError> {
        self.array(name)?
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                _ => Err(invalid(&format!("{name} holds a non-string"))),
            })
            .collect()
    }

    /// Headers are a map (the JS client writes an empty one); nil is tolerated as the JS reader
    /// does. Their content is dropped.
    fn headers(&mut self) -> Result<(), ProtocolError> {
        match self.any("headers")? {
            Value::Object(_) | Value::Null => Ok(()),
            _ => Err(invalid("headers are not a map")),
        }
    }
}
