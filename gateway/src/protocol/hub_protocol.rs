//! Which hub protocol a connection speaks, chosen once by the handshake.
//!
//! Every protocol-specific decision (codec, framing, frame opcode, accepted versions) is a `match`
//! on [`Protocol`], so adding MessagePack is one new arm in each place rather than a new trait.

use bytes::Bytes;
use serde::Serialize;

use super::error::ProtocolError;
use super::json;
use super::message::HubMessage;

/// A hub protocol the gateway can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `"json"`: UTF-8 JSON records ended by 0x1E, carried in text frames.
    Json,
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
        }
    }

    /// The format the transport must use for this protocol's frames (the JS client fails on JSON
    /// in binary WebSocket frames).
    pub fn transfer_format(self) -> TransferFormat {
        match self {
            Self::Json => TransferFormat::Text,
        }
    }

    /// Resolves a handshake `protocol` value; .NET compares names case-insensitively.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [Self::Json]
            .into_iter()
            .find(|protocol| name.eq_ignore_ascii_case(protocol.name()))
    }

    /// Highest handshake version accepted; .NET accepts anything up to it. Version 2 means the
    /// client negotiated stateful reconnect.
    pub(crate) fn max_version(self) -> i32 {
        match self {
            Self::Json => 2,
        }
    }

    /// Encodes one complete record, terminator or length prefix included.
    pub fn encode(self, message: &HubMessage) -> Bytes {
        match self {
            Self::Json => json::encode(message),
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
        }
    }

    /// Decodes one record (without its framing); `Ok(None)` for a message type to be skipped.
    pub(crate) fn decode(self, record: &[u8]) -> Result<Option<HubMessage>, ProtocolError> {
        match self {
            Self::Json => json::decode(record),
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
        assert_eq!(Protocol::from_name("messagepack"), None);
        assert_eq!(Protocol::from_name(""), None);
    }

    #[test]
    fn json_travels_as_text() {
        assert_eq!(Protocol::Json.transfer_format(), TransferFormat::Text);
    }
}
