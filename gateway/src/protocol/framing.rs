//! Turns a connection's incoming bytes into hub messages, whatever the transport's framing.
//!
//! Transports do not preserve record boundaries: one WebSocket frame or POST body may carry
//! several records (the JS client batches), and a raw client may split one record across frames.
//! The reader buffers until a record is complete and enforces the size limit per record, as .NET
//! does, so one huge message cannot hold memory even when it never ends.

use bytes::{Buf, BytesMut};

use super::error::ProtocolError;
use super::hub_protocol::Protocol;
use super::json::RECORD_SEPARATOR;
use super::message::HubMessage;
use super::msgpack::{self, Prefix};

/// .NET's default `MaximumReceiveMessageSize` (32 KiB), applied to the handshake and every hub
/// message.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 32 * 1024;

/// Where the next 0x1E-terminated record ends.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Boundary {
    /// The record is `buffer[..end]`; the terminator is at `end`.
    Found { end: usize },
    /// No terminator yet; `buffer[..scanned]` need not be searched again.
    Incomplete { scanned: usize },
    /// The record cannot fit in `limit` bytes, terminator included.
    TooLarge,
}

/// Finds the first terminator in `buffer`, resuming after `scanned` bytes already searched. Like
/// .NET, a record fits only if its terminator lies within the first `limit` bytes.
pub(crate) fn find_terminator(buffer: &[u8], scanned: usize, limit: usize) -> Boundary {
    let window_end = buffer.len().min(limit);
    let found = buffer
        .get(scanned..window_end)
        .and_then(|window| window.iter().position(|&byte| byte == RECORD_SEPARATOR));
    match found {
        Some(offset) => Boundary::Found {
            end: scanned + offset,
        },
        None if buffer.len() >= limit => Boundary::TooLarge,
        None => Boundary::Incomplete {
            scanned: window_end,
        },
    }
}

/// The per-connection incremental reader: [`push`](Self::push) what the transport received, then
/// call [`next_message`](Self::next_message) until it returns `Ok(None)`.
#[derive(Debug)]
pub struct MessageReader {
    protocol: Protocol,
    /// Largest record accepted, framing included.
    max_message_size: usize,
    /// Received bytes not yet consumed as records.
    buffer: BytesMut,
    /// Bytes at the start of `buffer` already searched for a terminator, so a record trickling in
    /// through many small frames is scanned once rather than once per frame.
    scanned: usize,
    /// The first error. Record boundaries are lost after it, so it is reported again on every
    /// later call rather than guessing where the next record starts.
    failed: Option<ProtocolError>,
}

impl MessageReader {
    /// A reader for a connection that completed its handshake with `protocol`.
    pub fn new(protocol: Protocol, max_message_size: usize) -> Self {
        Self {
            protocol,
            max_message_size,
            buffer: BytesMut::new(),
            scanned: 0,
            failed: None,
        }
    }

    /// Appends received bytes. The transport bounds the size of one frame; this reader bounds how
    /// much of it may belong to a single record.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.buffer.extend_from_slice(data);
        }
    }

    /// The next complete message, `Ok(None)` when more bytes are needed. Records of unknown
    /// message types are skipped. An error is final: close the connection.
    pub fn next_message(&mut self) -> Result<Option<HubMessage>, ProtocolError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.read_known_message() {
            Ok(message) => Ok(message),
            Err(error) => {
                self.buffer = BytesMut::new();
                self.scanned = 0;
                self.failed = Some(error.clone());
                Err(error)
            }
        }
    }

    fn read_known_message(&mut self) -> Result<Option<HubMessage>, ProtocolError> {
        while !self.buffer.is_empty() {
            let Some((start, end, consumed)) = self.next_record()? else {
                return Ok(None);
            };
            let decoded = self.protocol.decode(&self.buffer[start..end]);
            self.buffer.advance(consumed);
            self.scanned = 0;
            if self.buffer.is_empty() {
                // Connections are idle between messages: an empty buffer holds no memory.
                self.buffer = BytesMut::new();
            }
            if let Some(message) = decoded? {
                return Ok(Some(message));
            }
        }
        Ok(None)
    }

    /// Where the next complete record's body lies (`start..end`) and how many bytes it takes with
    /// its framing; `None` until all of it has arrived.
    fn next_record(&mut self) -> Result<Option<(usize, usize, usize)>, ProtocolError> {
        let too_large = ProtocolError::MessageTooLarge {
            limit: self.max_message_size,
        };
        match self.protocol {
            Protocol::Json => {
                match find_terminator(&self.buffer, self.scanned, self.max_message_size) {
                    Boundary::Found { end } => Ok(Some((0, end, end + 1))),
                    Boundary::Incomplete { scanned } => {
                        self.scanned = scanned;
                        Ok(None)
                    }
                    Boundary::TooLarge => Err(too_large),
                }
            }
            // The declared length is checked before the body arrives, so a huge claim is refused
            // at once instead of being buffered.
            Protocol::MessagePack => match msgpack::read_prefix(&self.buffer)? {
                Prefix::Incomplete => Ok(None),
                Prefix::Found { start, length } if start + length > self.max_message_size => {
                    Err(too_large)
                }
                Prefix::Found { start, length } if self.buffer.len() >= start + length => {
                    Ok(Some((start, start + length, start + length)))
                }
                Prefix::Found { .. } => Ok(None),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::protocol::testing::{byte_soup, message, messagepack_soup, split};

    fn json_reader(limit: usize) -> MessageReader {
        MessageReader::new(Protocol::Json, limit)
    }

    /// Everything the reader yields until it needs more bytes.
    fn drain(reader: &mut MessageReader) -> Result<Vec<HubMessage>, ProtocolError> {
        let mut messages = Vec::new();
        while let Some(message) = reader.next_message()? {
            messages.push(message);
        }
        Ok(messages)
    }

    fn invocation(id: &str) -> HubMessage {
        HubMessage::Invocation {
            invocation_id: Some(id.to_owned()),
            target: "Send".to_owned(),
            arguments: vec![json!(42), json!("x")],
            stream_ids: vec![],
        }
    }

    #[test]
    fn message_split_at_every_byte_boundary_is_read_once() {
        let wire =
            b"{\"target\":\"Send\",\"arguments\":[42,\"x\"],\"invocationId\":\"0\",\"type\":1}\x1e";
        for cut in 0..=wire.len() {
            let mut reader = json_reader(DEFAULT_MAX_MESSAGE_SIZE);
            let mut messages = Vec::new();
            for part in [&wire[..cut], &wire[cut..]] {
                reader.push(part);
                messages.extend(drain(&mut reader).expect("valid input"));
            }
            assert_eq!(messages, vec![invocation("0")], "cut at {cut}");
        }
    }

    #[test]
    fn message_trickling_in_one_byte_per_frame_is_read_once() {
        let wire = Protocol::Json.encode(&invocation("0"));
        let mut reader = json_reader(DEFAULT_MAX_MESSAGE_SIZE);
        let mut messages = Vec::new();
        for byte in wire.iter() {
            reader.push(&[*byte]);
            messages.extend(drain(&mut reader).expect("valid input"));
        }
        assert_eq!(messages, vec![invocation("0")]);
    }

    #[test]
    fn several_messages_in_one_frame_are_all_read() {
        let mut reader = json_reader(DEFAULT_MAX_MESSAGE_SIZE);
        reader.push(b"{\"type\":6}\x1e{\"target\":\"Send\",\"arguments\":[42,\"x\"],\"invocationId\":\"1\",\"type\":1}\x1e{\"type\":7}\x1e");
        assert_eq!(
            drain(&mut reader),
            Ok(vec![
                HubMessage::Ping,
                invocation("1"),
                HubMessage::Close {
                    error: None,
                    allow_reconnect: false
                },
            ])
        );
    }

    #[test]
    fn unknown_message_types_between_known_ones_are_skipped() {
        let mut reader = json_reader(DEFAULT_MAX_MESSAGE_SIZE);
        reader.push(b"{\"type\":42}\x1e{\"type\":6}\x1e{\"type\":43}\x1e");
        assert_eq!(drain(&mut reader), Ok(vec![HubMessage::Ping]));
    }

    #[test]
    fn record_filling_the_limit_exactly_is_accepted() {
        let ping = b"{\"type\":6}\x1e";
        let mut reader = json_reader(ping.len());
        reader.push(ping);
        reader.push(ping);
        assert_eq!(
            drain(&mut reader),
            Ok(vec![HubMessage::Ping, HubMessage::Ping])
        );
    }

    #[test]
    fn terminated_record_over_the_limit_is_rejected() {
        let ping = b"{\"type\":6} \x1e";
        let mut reader = json_reader(ping.len() - 1);
        reader.push(ping);
        assert_eq!(
            reader.next_message(),
            Err(ProtocolError::MessageTooLarge {
                limit: ping.len() - 1
            })
        );
    }

    #[test]
    fn unterminated_buffer_over_the_limit_is_rejected_before_the_end_arrives() {
        let mut reader = json_reader(DEFAULT_MAX_MESSAGE_SIZE);
        let mut record = b"{\"type\":2,\"invocationId\":\"0\",\"item\":\"".to_vec();
        record.resize(DEFAULT_MAX_MESSAGE_SIZE - 1, b'a');
        reader.push(&record);
        assert_eq!(reader.next_message(), Ok(None));
        reader.push(b"a");
        let error = reader.next_message().expect_err("over the limit");
        assert_eq!(
            error.to_string(),
            "The maximum message size of 32768B was exceeded."
        );
    }

    #[test]
    fn error_is_final_and_further_use_does_not_panic() {
        let mut reader = json_reader(DEFAULT_MAX_MESSAGE_SIZE);
        reader.push(b"{\"type\":\"6\"}\x1e{\"type\":6}\x1e");
        let first = reader.next_message().expect_err("type as a string");
        assert!(matches!(first, ProtocolError::Malformed(_)));
        reader.push(b"{\"type\":6}\x1e");
        assert_eq!(reader.next_message(), Err(first));
    }

    #[test]
    fn messagepack_records_batched_and_split_are_read_in_order() {
        let mut wire = Protocol::MessagePack.encode(&HubMessage::Ping).to_vec();
        wire.extend_from_slice(&Protocol::MessagePack.encode(&invocation("1")));
        wire.extend_from_slice(&[0x03, 0x92, 0x07, 0xc0]);
        let mut reader = MessageReader::new(Protocol::MessagePack, DEFAULT_MAX_MESSAGE_SIZE);
        let mut messages = Vec::new();
        for byte in &wire {
            reader.push(&[*byte]);
            messages.extend(drain(&mut reader).expect("valid input"));
        }
        assert_eq!(
            messages,
            vec![
                HubMessage::Ping,
                invocation("1"),
                HubMessage::Close {
                    error: None,
                    allow_reconnect: false
                }
            ]
        );
    }

    #[test]
    fn messagepack_length_over_the_limit_is_refused_before_the_body_arrives() {
        let mut reader = MessageReader::new(Protocol::MessagePack, 1024);
        reader.push(&[0x80, 0x08]);
        assert_eq!(
            reader.next_message(),
            Err(ProtocolError::MessageTooLarge { limit: 1024 })
        );
    }

    proptest! {
        #[test]
        fn byte_soup_never_panics_the_reader(
            soup in byte_soup(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
            limit in 0usize..96,
        ) {
            let mut reader = json_reader(limit);
            for frame in split(&soup, &cuts) {
                reader.push(frame);
                // Errors are expected; only a panic fails the property.
                let _ = drain(&mut reader);
            }
        }

        #[test]
        fn byte_soup_never_panics_the_messagepack_reader(
            soup in messagepack_soup(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
            limit in 0usize..96,
        ) {
            let mut reader = MessageReader::new(Protocol::MessagePack, limit);
            for frame in split(&soup, &cuts) {
                reader.push(frame);
                let _ = drain(&mut reader);
            }
        }

        #[test]
        fn messagepack_messages_split_anywhere_read_back_unchanged(
            messages in prop::collection::vec(message(), 0..6),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let wire: Vec<u8> = messages
                .iter()
                .flat_map(|message| Protocol::MessagePack.encode(message))
                .collect();
            let mut reader = MessageReader::new(Protocol::MessagePack, usize::MAX);
            let mut read = Vec::new();
            for frame in split(&wire, &cuts) {
                reader.push(frame);
                read.extend(drain(&mut reader).expect("valid input"));
            }
            prop_assert_eq!(read, messages);
        }

        #[test]
        fn encoded_messages_split_anywhere_read_back_unchanged(
            messages in prop::collection::vec(message(), 0..6),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let wire: Vec<u8> = messages
                .iter()
                .flat_map(|message| Protocol::Json.encode(message))
                .collect();
            let mut reader = json_reader(usize::MAX);
            let mut read = Vec::new();
            for frame in split(&wire, &cuts) {
                reader.push(frame);
                read.extend(drain(&mut reader).expect("valid input"));
            }
            prop_assert_eq!(read, messages);
        }
    }
}
