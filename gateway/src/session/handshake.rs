//! The first exchange of every connection: read the handshake request, check that the chosen
//! protocol fits the transport, answer it.

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{inbox::InboxReceiver, Inbound, SessionConfig, SessionMetrics};
use crate::{
    node::{Frame, Outbound},
    protocol::{AvailableTransport, Handshake, HandshakeError, Protocol, TransportType},
};

/// An accepted handshake.
pub(super) struct Accepted {
    pub protocol: Protocol,
    /// 2 when the client negotiated stateful reconnect.
    pub version: i32,
    /// Bytes after the handshake record: the first hub messages.
    pub leftover: Bytes,
}

/// Reads the handshake request and answers it. `None` when the connection ends here (error
/// answered, timeout, or client gone).
pub(super) async fn handshake(
    inbound: &mut InboxReceiver,
    terminate: &CancellationToken,
    outbound: &Outbound,
    config: &SessionConfig,
    transport: TransportType,
    metrics: &SessionMetrics,
) -> Option<Accepted> {
    let mut buffer = BytesMut::new();
    let deadline = Instant::now() + config.handshake_timeout;
    loop {
        match Handshake::parse(&buffer, config.max_message_size)
            .and_then(|parsed| fits(parsed, transport))
        {
            Ok(Some((handshake, consumed))) => {
                let protocol = handshake.protocol;
                // Alone in its frame: the JS client fails if anything it reads first has a type,
                // and with stateful reconnect it must not parse numbered messages in the same
                // receive callback (signalr-protocol.md §11.4).
                outbound.send_final(Frame::new(
                    protocol.transfer_format(),
                    Handshake::success_response(),
                ));
                return Some(Accepted {
                    protocol,
                    version: handshake.version,
                    leftover: buffer.split_off(consumed).freeze(),
                });
            }
            Ok(None) => {}
            Err(error) => {
                tracing::info!(%error, "handshake refused");
                metrics.handshake_failed(&error);
                outbound.send_final(Frame::text(error.response()));
                return None;
            }
        }
        tokio::select! {
            chunk = inbound.recv() => match chunk? {
                Inbound::Data(bytes) => buffer.extend_from_slice(&bytes),
                Inbound::Reattached => return None,
                Inbound::Oversized { limit } => {
                    let error = HandshakeError::TooLarge { limit };
                    metrics.handshake_failed(&error);
                    outbound.send_final(Frame::text(error.response()));
                    return None;
                }
            },
            () = terminate.cancelled() => return None,
            () = tokio::time::sleep_until(deadline) => {
                tracing::info!("handshake timeout");
                metrics.handshake_failed(&HandshakeError::TimedOut);
                outbound.send_final(Frame::text(HandshakeError::TimedOut.response()));
                return None;
            }
        }
    }
}

/// Refuses a protocol whose transfer format the transport cannot carry (MessagePack over
/// Server-Sent Events), with the text .NET answers.
fn fits(
    parsed: Option<(Handshake, usize)>,
    transport: TransportType,
) -> Result<Option<(Handshake, usize)>, HandshakeError> {
    let Some((handshake, consumed)) = parsed else {
        return Ok(None);
    };
    let format = handshake.protocol.transfer_format();
    let carried = AvailableTransport::ALL
        .iter()
        .any(|t| t.transport == transport && t.transfer_formats.contains(&format));
    if carried {
        return Ok(Some((handshake, consumed)));
    }
    Err(HandshakeError::UnsupportedTransferFormat {
        name: handshake.protocol.name().to_owned(),
        format,
    })
}
