//! Which hub protocol a connection speaks, chosen once by the handshake.
//!
//! Every protocol-specific decision (codec, framing, frame opcode, accepted versions) is a `match`
//! on [`Protocol`], so adding MessagePack is one new arm in each place rather than a new trait.

use bytes::Bytes;
use serde::Serialize;

use super::error::ProtocolError;
use super::json;
use super::message::HubMessage;
use super::msgpack;

/// A hub protocol the gateway can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `"json"`: UTF-8 JSON records ended by 0x1E, carried in text frames.
    Json,
    /// `"messagepack"`: MessagePack arrays behind a VarInt length, carried in binary frames.
    MessagePack,
}

/// What a transport must be able to carry for a protocol; also listed per transport in negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TransferFormat {
    /// UTF-8 text: WebSocket text frames.
    Text,
    /// Arbitrary bytes: WebSocket binary frames.
    Binary,
}

impl Protocol {
    /// The name used in the handshake and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::MessagePack => "messagepack",
        }
    }

    /// The format the transport must use for this protocol's frames (the JS client fails on JSON
    /// in binary WebSocket frames).
    pub fn transfer_format(self) -> TransferFormat {
        match self {
            Self::Json => TransferFormat::Text,
            Self::MessagePack => TransferFormat::Binary,
        }
    }

    /// Resolves a handshake `protocol` value; .NET compares names case-insensitively.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [Self::Json, Self::MessagePack]
            .into_iter()
            .find(|protocol| name.eq_ignore_ascii_case(protocol.name()))
    }

    /// Highest handshake version accepted; .NET accepts anything up to it. Version 2 means the
    /// client negotiated stateful reconnect.
    pub(crate) fn max_version(self) -> i32 {
        match self {
            Self::Json | Self::MessagePack => 2,
        }
    }

    /// Encodes one complete record, terminator or length prefix included.
    pub fn encode(self, message: &HubMessage) -> Bytes {
        match self {
            Self::Json => json::encode(message),
            Self::MessagePack => msgpack::encode(message),
        }
    }

    /// Encodes a server→client Invocation without id whose single argument is `argument`,
    /// serialized directly into the record. This is the broadcast path: encode once, send the
    /// same `Bytes` to every connection speaking this protocol.
    pub fn encode_invocation<T: Serialize + ?Sized>(
        self,
        target: &str,
        argument: &T,
    ) -> Result<Bytes, ProtocolError> {
        match self {
            Self::Json => json::encode_invocation(target, argument),
            Self::MessagePack => msgpack::encode_invocation(target, argument),
        }
    }

    /// Decodes one record (without its framing); `Ok(None)` for a message type to be skipped.
    pub(crate) fn decode(self, record: &[u8]) -> Result<Option<HubMessage>, ProtocolError> {
        match self {
            Self::Json => json::decode(record),
            Self::MessagePack => msgpack::decode(record),
        }
    }

    /// Whether a record this server encoded is one stateful reconnect numbers and replays
    /// (Invocation, StreamItem, Completion, StreamInvocation, CancelInvocation). Both encoders
    /// write the type first, so it is read without decoding the record; anything else (Ping,
    /// Close, Ack, Sequence, the handshake response) is not numbered.
    pub fn is_sequenced(self, record: &[u8]) -> bool {
        match self {
            Self::Json => matches!(
                record
                    .strip_prefix(b"{\"type\":")
                    .and_then(|rest| rest.first()),
                Some(b'1'..=b'5')
            ),
            Self::MessagePack => match msgpack::read_prefix(record) {
                Ok(msgpack::Prefix::Found { start, .. }) => matches!(
                    (record.get(start), record.get(start + 1)),
                    (Some(0x90..=0x9f), Some(1..=5))
                ),
                Ok(msgpack::Prefix::Incomplete) | Err(_) => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_case_insensitively() {
        assert_eq!(Protocol::from_name("json"), Some(Protocol::Json));
        assert_eq!(Protocol::from_name("Json"), Some(Protocol::Json));
        assert_eq!(
            Protocol::from_name("MessagePack"),
            Some(Protocol::MessagePack)
        );
        assert_eq!(Protocol::from_name("msgpack"), None);
        assert_eq!(Protocol::from_name(""), None);
    }

    #[test]
    fn json_travels_as_text_and_messagepack_as_binary() {
        assert_eq!(Protocol::Json.transfer_format(), TransferFormat::Text);
        assert_eq!(
            Protocol::MessagePack.transfer_format(),
            TransferFormat::Binary
        );
    }

    #[test]
    fn only_invocation_family_records_are_sequenced() {
        let completion = HubMessage::Completion {
            invocation_id: "0".to_owned(),
            outcome: crate::protocol::CompletionOutcome::Void,
        };
        for protocol in [Protocol::Json, Protocol::MessagePack] {
            assert!(protocol.is_sequenced(&protocol.encode(&completion)));
            let event = protocol
                .encode_invocation("ItemAdded", &[1])
                .expect("encodes");
            assert!(protocol.is_sequenced(&event));
            for untracked in [
                HubMessage::Ping,
                HubMessage::Ack { sequence_id: 1 },
                HubMessage::Sequence { sequence_id: 1 },
                HubMessage::Close {
                    error: None,
                    allow_reconnect: true,
                },
            ] {
                assert!(!protocol.is_sequenced(&protocol.encode(&untracked)));
            }
            assert!(!protocol.is_sequenced(b"{}\x1e"));
        }
    }
}
