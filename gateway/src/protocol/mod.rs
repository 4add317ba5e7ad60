//! The SignalR wire protocol, without I/O: negotiate bodies, the handshake, hub message codecs and
//! record framing.
//!
//! Kept pure so every rule the official `@microsoft/signalr` client depends on (exact bytes, error
//! texts, size limits, tolerance of batching and split records) is checked by fast unit and
//! property tests rather than through sockets. Transports feed bytes in and send the `Bytes` that
//! come out; sessions see only [`HubMessage`]s.
//!
//! A connection's life here: [`NegotiateVersion::parse`], [`ConnectionIds::generate`] and
//! [`NegotiateResponse`] answer negotiate; [`Handshake::parse`] reads the handshake and picks a
//! [`Protocol`], answered with [`Handshake::success_response`] or [`HandshakeError::response`];
//! a [`MessageReader`] then turns incoming bytes into messages, and [`Protocol::encode`] /
//! [`Protocol::encode_invocation`] produce outgoing records.

mod error;
mod event_payload;
mod framing;
mod handshake;
mod hub_protocol;
mod issuer;
mod json;
mod message;
mod msgpack;
mod negotiate;
#[cfg(test)]
mod testing;

pub use error::{HandshakeError, NegotiateError, ProtocolError};
pub use event_payload::EventPayload;
pub use framing::{MessageReader, DEFAULT_MAX_MESSAGE_SIZE};
pub use handshake::Handshake;
pub use hub_protocol::{Protocol, TransferFormat};
pub use issuer::Issuer;
pub use message::{CompletionOutcome, HubMessage};
pub use negotiate::{
    query_value, wants_stateful_reconnect, AvailableTransport, ConnectionIds, NegotiateErrorBody,
    NegotiateResponse, NegotiateVersion, TransportType,
};
