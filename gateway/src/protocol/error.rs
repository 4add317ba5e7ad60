//! Errors of the protocol layer, one enum per edge they end up at.
//!
//! Each edge answers the client differently, so each gets its own enum and callers can match
//! exhaustively: [`ProtocolError`] ends a connection with a Close message, [`HandshakeError`]
//! becomes a handshake response, [`NegotiateError`] becomes a negotiate error body.

use bytes::Bytes;

use super::negotiate::NegotiateErrorBody;

/// A hub message could not be read or written; the connection cannot go on.
///
/// Texts mirror the .NET server where it has one, so logs read the same across implementations.
/// None of them is sent to the client as is: .NET closes with a generic error unless detailed
/// errors are on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A record (terminator included) did not fit in the configured limit, or the buffer grew past
    /// the limit without a terminator.
    #[error("The maximum message size of {limit}B was exceeded.")]
    MessageTooLarge {
        /// The configured limit in bytes, reported as .NET does.
        limit: usize,
    },
    /// The record is not the expected JSON: a syntax error, a property of the wrong type, or not an
    /// object at all.
    #[error("Error reading JSON: {0}")]
    Malformed(String),
    /// The record is not the expected MessagePack: bad length prefix, truncated or invalid data,
    /// or an array of the wrong shape for its message type.
    #[error("Error reading MessagePack: {0}")]
    MalformedBinary(String),
    /// A property the message type requires is absent.
    #[error("Missing required property '{0}'.")]
    MissingProperty(&'static str),
    /// A Completion carried both an error and a result.
    #[error("The 'error' and 'result' properties are mutually exclusive.")]
    ErrorAndResult,
    /// An outgoing payload could not be serialized (e.g. a map with non-string keys).
    #[error("failed to serialize a hub message: {0}")]
    Serialize(String),
}

/// The handshake request was refused; the caller sends [`HandshakeError::response`] and closes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The client asked for a protocol this server does not speak.
    #[error("The protocol '{name}' is not supported.")]
    UnsupportedProtocol {
        /// The name as the client sent it.
        name: String,
    },
    /// The protocol is known but not in the requested version.
    #[error("The server does not support version {version} of the '{name}' protocol.")]
    UnsupportedVersion {
        /// The name as the client sent it.
        name: String,
        /// The requested version.
        version: i32,
    },
    /// The protocol needs a transfer format the connection's transport cannot carry (MessagePack
    /// over Server-Sent Events).
    #[error("Cannot use the '{name}' protocol on the current transport. The transport does not support '{format:?}' transfer format.")]
    UnsupportedTransferFormat {
        /// The name as the client sent it.
        name: String,
        /// What the protocol needs.
        format: super::hub_protocol::TransferFormat,
    },
    /// No complete handshake arrived within the handshake timeout.
    #[error("handshake timed out")]
    TimedOut,
    /// The handshake did not fit in the message size limit (.NET answers as if it timed out).
    #[error("handshake larger than {limit}B")]
    TooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The handshake is not a JSON object with a string `protocol` and an integer `version`.
    #[error("malformed handshake: {0}")]
    Malformed(String),
}

impl HandshakeError {
    /// The refusal's kind, as the `reason` label of the handshake-failure metric.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnsupportedProtocol { .. } => "unsupported_protocol",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::UnsupportedTransferFormat { .. } => "unsupported_transfer_format",
            Self::TimedOut => "timed_out",
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(_) => "malformed",
        }
    }

    /// The text .NET puts in the handshake response; details of malformed input stay in logs.
    pub fn client_message(&self) -> String {
        match self {
            Self::UnsupportedProtocol { .. }
            | Self::UnsupportedVersion { .. }
            | Self::UnsupportedTransferFormat { .. } => self.to_string(),
            Self::TimedOut | Self::TooLarge { .. } => "Handshake was canceled.".to_owned(),
            Self::Malformed(_) => {
                "An unexpected error occurred during connection handshake.".to_owned()
            }
        }
    }

    /// The complete response record, `{"error":"..."}` + 0x1E, ready for the transport.
    pub fn response(&self) -> Bytes {
        super::handshake::error_response(&self.client_message())
    }
}

/// The negotiate request cannot be answered with a connection.
///
/// .NET still answers these with HTTP 200 and `{"error":"..."}`; the JS client rejects `start()`
/// with the text verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiateError {
    /// `negotiateVersion` is present but not an integer.
    #[error("The client requested a non-integer protocol version.")]
    NonIntegerVersion,
    /// `negotiateVersion` is below the minimum this server accepts (0).
    #[error("The client requested version '{0}', but the server does not support this version.")]
    UnsupportedVersion(i32),
}

impl NegotiateError {
    /// The response body, to be serialized as JSON with status 200.
    pub fn body(&self) -> NegotiateErrorBody {
        NegotiateErrorBody {
            error: self.to_string(),
        }
    }
}
