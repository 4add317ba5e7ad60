//! The handshake: the first record on every connection picks the hub protocol.
//!
//! The request is always JSON text ended by 0x1E, even for MessagePack. It may be followed by hub
//! messages in the same buffer, so parsing reports how many bytes it consumed and leaves the rest
//! to the [`MessageReader`](super::MessageReader).

use bytes::Bytes;
use serde::Deserialize;

use super::error::{HandshakeError, ProtocolError};
use super::framing::{find_terminator, Boundary};
use super::hub_protocol::Protocol;
use super::json;

/// Exactly what .NET answers to an accepted handshake.
const SUCCESS: &[u8] = b"{}\x1e";

/// The lowest version accepted. ASP.NET Core accepts any version up to its own, and Python's
/// signalrcore asks for version 0 of the JSON protocol, so 0 is spoken as 1; a negative version
/// names nothing and is refused as one from the future is.
const MIN_VERSION: i32 = 0;

/// An accepted handshake request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// The protocol every later message on the connection uses.
    pub protocol: Protocol,
    /// The version the client asked for. The JS client asks for 2 only when stateful reconnect was
    /// negotiated on a WebSocket, and for 1 otherwise.
    pub version: i32,
}

impl Handshake {
    /// Reads the handshake request at the start of `buffer`.
    ///
    /// `Ok(None)`: the terminator has not arrived yet; call again with more bytes.
    /// `Ok(Some((handshake, consumed)))`: `buffer[consumed..]` holds the first hub messages.
    /// `Err`: send [`HandshakeError::response`] and close.
    pub fn parse(
        buffer: &[u8],
        max_message_size: usize,
    ) -> Result<Option<(Self, usize)>, HandshakeError> {
        let end = match find_terminator(buffer, 0, max_message_size) {
            Boundary::Found { end } => end,
            Boundary::Incomplete { .. } => return Ok(None),
            Boundary::TooLarge => {
                return Err(HandshakeError::TooLarge {
                    limit: max_message_size,
                })
            }
        };
        let request: WireRequest = json::parse_object(&buffer[..end]).map_err(malformed)?;
        let name = request
            .protocol
            .ok_or_else(|| malformed(ProtocolError::MissingProperty("protocol")))?;
        let version = request
            .version
            .ok_or_else(|| malformed(ProtocolError::MissingProperty("version")))?;
        let Some(protocol) = Protocol::from_name(&name) else {
            return Err(HandshakeError::UnsupportedProtocol { name });
        };
        if !(MIN_VERSION..=protocol.max_version()).contains(&version) {
            return Err(HandshakeError::UnsupportedVersion { name, version });
        }
        Ok(Some((Self { protocol, version }, end + 1)))
    }

    /// `{}` + 0x1E. Send it before anything else: the JS client fails if the first record it reads
    /// has a `type`.
    pub fn success_response() -> Bytes {
        Bytes::from_static(SUCCESS)
    }
}

/// The request as sent; unknown properties are ignored, as .NET does.
#[derive(Deserialize)]
struct WireRequest {
    protocol: Option<String>,
    version: Option<i32>,
}

fn malformed(error: ProtocolError) -> HandshakeError {
    HandshakeError::Malformed(error.to_string())
}

/// `{"error":"…"}` + 0x1E.
pub(crate) fn error_response(text: &str) -> Bytes {
    let mut out = Vec::with_capacity(text.len() + 13);
    out.extend_from_slice(b"{\"error\":");
    json::write_string(&mut out, text);
    out.extend_from_slice(b"}\x1e");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::protocol::framing::DEFAULT_MAX_MESSAGE_SIZE;
    use crate::protocol::testing::{byte_soup, split};
    use crate::protocol::{HubMessage, MessageReader};

    fn parse(input: &[u8]) -> Result<Option<(Handshake, usize)>, HandshakeError> {
        Handshake::parse(input, DEFAULT_MAX_MESSAGE_SIZE)
    }

    fn accepted(input: &[u8]) -> (Handshake, usize) {
        parse(input)
            .expect("accepted handshake")
            .expect("complete handshake")
    }

    /// The response record a refused handshake gets, as text.
    fn refusal(input: &[u8], limit: usize) -> String {
        let error = Handshake::parse(input, limit).expect_err("refused handshake");
        String::from_utf8(error.response().to_vec()).expect("utf-8 response")
    }

    #[test]
    fn json_version_1_is_accepted() {
        let input = b"{\"protocol\":\"json\",\"version\":1}\x1e";
        let expected = Handshake {
            protocol: Protocol::Json,
            version: 1,
        };
        assert_eq!(accepted(input), (expected, input.len()));
    }

    #[test]
    fn version_2_is_reported_so_stateful_reconnect_can_be_enabled() {
        let (handshake, _) = accepted(b"{\"protocol\":\"json\",\"version\":2}\x1e");
        assert_eq!(handshake.version, 2);
    }

    #[test]
    fn protocol_name_is_case_insensitive_and_unknown_properties_are_ignored() {
        let (handshake, _) =
            accepted(b"{\"minorVersion\":0,\"version\":1,\"protocol\":\"JSON\",\"x\":{}}\x1e");
        assert_eq!(handshake.protocol, Protocol::Json);
    }

    #[test]
    fn handshake_without_terminator_waits_for_more_bytes() {
        assert_eq!(parse(b"{\"protocol\":\"json\",\"version\":1}"), Ok(None));
        assert_eq!(parse(b""), Ok(None));
    }

    #[test]
    fn ping_after_the_handshake_in_the_same_buffer_is_left_for_the_hub_parser() {
        let input = b"{\"protocol\":\"json\",\"version\":1}\x1e{\"type\":6}\x1e";
        let (handshake, consumed) = accepted(input);
        let mut reader = MessageReader::new(handshake.protocol, DEFAULT_MAX_MESSAGE_SIZE);
        reader.push(&input[consumed..]);
        assert_eq!(reader.next_message(), Ok(Some(HubMessage::Ping)));
        assert_eq!(reader.next_message(), Ok(None));
    }

    #[test]
    fn success_response_is_an_empty_object() {
        assert_eq!(&Handshake::success_response()[..], b"{}\x1e");
    }

    #[test]
    fn messagepack_is_accepted_and_the_rest_is_left_for_its_parser() {
        let mut input = b"{\"protocol\":\"messagepack\",\"version\":1}\x1e".to_vec();
        let handshake_len = input.len();
        input.extend_from_slice(&[0x02, 0x91, 0x06]);
        let (handshake, consumed) = accepted(&input);
        assert_eq!(handshake.protocol, Protocol::MessagePack);
        assert_eq!(consumed, handshake_len);
        let mut reader = MessageReader::new(handshake.protocol, DEFAULT_MAX_MESSAGE_SIZE);
        reader.push(&input[consumed..]);
        assert_eq!(reader.next_message(), Ok(Some(HubMessage::Ping)));
    }

    #[test]
    fn unknown_protocols_are_refused_by_name() {
        assert_eq!(
            refusal(b"{\"protocol\":\"protobuf\",\"version\":1}\x1e", 1024),
            "{\"error\":\"The protocol 'protobuf' is not supported.\"}\x1e"
        );
    }

    #[test]
    fn binary_protocol_on_a_text_transport_gets_the_dotnet_text() {
        let error = HandshakeError::UnsupportedTransferFormat {
            name: "messagepack".to_owned(),
            format: crate::protocol::TransferFormat::Binary,
        };
        assert_eq!(
            error.client_message(),
            "Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format."
        );
    }

    #[test]
    fn version_above_2_is_refused_with_the_requested_name() {
        assert_eq!(
            refusal(b"{\"protocol\":\"Json\",\"version\":3}\x1e", 1024),
            "{\"error\":\"The server does not support version 3 of the 'Json' protocol.\"}\x1e"
        );
    }

    #[test]
    fn version_0_is_spoken_as_asp_net_core_accepts_it() {
        let (handshake, _) = accepted(b"{\"protocol\":\"json\",\"version\":0}\x1e");
        assert_eq!(handshake.version, 0);
    }

    #[test]
    fn negative_versions_are_refused_like_versions_above_2() {
        for version in [-1, i32::MIN] {
            let input = format!("{{\"protocol\":\"json\",\"version\":{version}}}\x1e");
            assert_eq!(
                refusal(input.as_bytes(), 1024),
                format!(
                    "{{\"error\":\"The server does not support version {version} of the 'json' protocol.\"}}\x1e"
                )
            );
        }
    }

    #[test]
    fn oversize_handshake_is_canceled_with_or_without_terminator() {
        let canceled = "{\"error\":\"Handshake was canceled.\"}\x1e";
        let input = b"{\"protocol\":\"json\",\"version\":1}\x1e";
        assert_eq!(refusal(input, input.len() - 1), canceled);
        assert_eq!(
            refusal(&input[..input.len() - 1], input.len() - 1),
            canceled
        );
        assert!(Handshake::parse(input, input.len()).is_ok());
    }

    #[test]
    fn malformed_handshakes_get_the_generic_error() {
        let generic =
            "{\"error\":\"An unexpected error occurred during connection handshake.\"}\x1e";
        let inputs: [&[u8]; 7] = [
            b"{\"protocol\":\"json\",\"version\":1\x1e",
            b"\x1e",
            b"[\"json\",1]\x1e",
            b"{\"version\":1}\x1e",
            b"{\"protocol\":\"json\"}\x1e",
            b"{\"protocol\":\"json\",\"version\":\"1\"}\x1e",
            b"{\"protocol\":\"json\",\"version\":1.5}\x1e",
        ];
        for input in inputs {
            assert_eq!(refusal(input, 1024), generic, "{input:?}");
        }
    }

    #[test]
    fn refusal_texts_are_escaped_in_the_response() {
        assert_eq!(
            refusal(b"{\"protocol\":\"a\\\"b\",\"version\":1}\x1e", 1024),
            "{\"error\":\"The protocol 'a\\\"b' is not supported.\"}\x1e"
        );
    }

    proptest! {
        #[test]
        fn byte_soup_never_panics_the_handshake_parser(
            soup in byte_soup(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            limit in 0usize..96,
        ) {
            let mut received = Vec::new();
            for frame in split(&soup, &cuts) {
                received.extend_from_slice(frame);
                match Handshake::parse(&received, limit) {
                    Ok(None) => continue,
                    Ok(Some((_, consumed))) => prop_assert!(consumed <= received.len()),
                    Err(error) => prop_assert!(error.response().starts_with(b"{\"error\":"), "{:?}", error),
                }
                break;
            }
        }
    }
}
