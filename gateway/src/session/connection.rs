//! One SignalR connection from handshake to close.
//!
//! The transport feeds incoming bytes as a stream of [`Inbound`] chunks and
//! writes whatever is queued on the connection's [`Outbound`]. Everything in
//! between — handshake, parsing, keep-alive, client timeout, invocations, and
//! the Close message that says why a connection ends — happens here, the same
//! for every transport. Invocations of one connection run one at a time, as in
//! ASP.NET Core.

use std::{sync::Arc, time::Duration};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use pulse_auth::Identity;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{SessionConfig, SignalrEncoder};
use crate::{
    hub::{Arguments, Caller, HubKind, Services},
    node::{Frame, Outbound},
    protocol::{
        CompletionOutcome, Handshake, HandshakeError, HubMessage, MessageReader, Protocol,
        TransferFormat,
    },
};

/// Bytes from the client, as the transport received them (record boundaries
/// are not preserved by transports and not assumed here).
type Inbound = Bytes;

/// What a connection needs to run.
pub struct Connection {
    pub hub: HubKind,
    pub services: Services,
    pub identity: Identity,
    pub token: String,
    pub connection_id: Arc<str>,
    pub config: SessionConfig,
    /// Cancelled when the gateway shuts down.
    pub shutdown: CancellationToken,
}

/// How the connection ended, for the transport: `abort` means do not flush
/// (the client stopped reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Graceful,
    Abort,
}

/// Runs the connection until the client leaves, a rule closes it, or the
/// gateway shuts down. The Close message, when there is one, is the last frame
/// queued on `outbound`.
pub async fn run_connection<S>(connection: Connection, inbound: S, outbound: Outbound) -> Ending
where
    S: Stream<Item = Inbound> + Unpin,
{
    let span = tracing::info_span!(
        "connection",
        conn_id = %connection.connection_id,
        user_id = %connection.identity.user_id,
        hub = connection.hub.name(),
    );
    run(connection, inbound, outbound).instrument(span).await
}

async fn run<S>(connection: Connection, mut inbound: S, outbound: Outbound) -> Ending
where
    S: Stream<Item = Inbound> + Unpin,
{
    let config = connection.config.clone();
    let Some((protocol, leftover)) = handshake(&mut inbound, &outbound, &config).await else {
        return Ending::Graceful;
    };
    let Some(mut caller) = Caller::new(
        connection.connection_id.clone(),
        connection.identity.clone(),
        &connection.token,
        protocol,
        outbound.clone(),
        Arc::new(SignalrEncoder::new(protocol)),
    ) else {
        tracing::error!("credential cannot be forwarded");
        return Ending::Graceful;
    };
    tracing::info!(protocol = protocol.name(), "connected");
    let mut reader = MessageReader::new(protocol, config.max_message_size);
    reader.push(&leftover);

    let close = serve(
        &connection,
        &mut caller,
        &mut reader,
        &mut inbound,
        &outbound,
    )
    .await;
    connection
        .hub
        .disconnected(&connection.services, &mut caller)
        .await;
    let ending = match close {
        Close::ClientLeft => Ending::Graceful,
        Close::Overflow => Ending::Abort,
        Close::Server {
            error,
            allow_reconnect,
        } => {
            let message = HubMessage::Close {
                error,
                allow_reconnect,
            };
            outbound.send_final(frame(protocol, protocol.encode(&message)));
            Ending::Graceful
        }
    };
    tracing::info!(?ending, "disconnected");
    ending
}

/// Why the connection loop ended.
enum Close {
    /// The client sent Close or its transport went away.
    ClientLeft,
    /// The client stopped reading; nothing more can be sent.
    Overflow,
    /// The server ends the connection and tells the client why.
    Server {
        error: Option<String>,
        allow_reconnect: bool,
    },
}

impl Close {
    /// A close the client may recover from by reconnecting.
    fn with_error(reason: &str) -> Self {
        Close::Server {
            error: Some(format!("Connection closed with an error. {reason}")),
            allow_reconnect: true,
        }
    }
}

async fn serve<S>(
    connection: &Connection,
    caller: &mut Caller,
    reader: &mut MessageReader,
    inbound: &mut S,
    outbound: &Outbound,
) -> Close
where
    S: Stream<Item = Inbound> + Unpin,
{
    let config = &connection.config;
    let protocol = caller.protocol;
    let ping = frame(protocol, protocol.encode(&HubMessage::Ping));
    let mut keep_alive = tokio::time::interval(config.keep_alive_interval);
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_received = Instant::now();
    let mut client_pinged = false;
    let expiry = credential_expiry(&connection.identity);
    loop {
        if let Some(close) = drain(connection, caller, reader, &mut client_pinged).await {
            return close;
        }
        let client_deadline = last_received + config.client_timeout;
        tokio::select! {
            chunk = inbound.next() => match chunk {
                Some(bytes) => {
                    last_received = Instant::now();
                    reader.push(&bytes);
                }
                None => return Close::ClientLeft,
            },
            _ = keep_alive.tick() => {
                let _ = outbound.send(ping.clone());
            }
            () = tokio::time::sleep_until(client_deadline), if client_pinged => {
                tracing::info!("client timeout");
                return Close::with_error("Client hasn't sent a message/ping within the configured ClientTimeoutInterval.");
            }
            () = tokio::time::sleep_until(expiry) => {
                return Close::Server {
                    error: Some("Authentication expired.".into()),
                    allow_reconnect: true,
                };
            }
            () = outbound.overflowed() => {
                tracing::warn!("client too slow; closing");
                return Close::Overflow;
            }
            () = connection.shutdown.cancelled() => {
                return Close::Server {
                    error: Some("Server is shutting down.".into()),
                    allow_reconnect: true,
                };
            }
        }
    }
}

/// Handles every complete message received so far; `Some` ends the connection.
async fn drain(
    connection: &Connection,
    caller: &mut Caller,
    reader: &mut MessageReader,
    client_pinged: &mut bool,
) -> Option<Close> {
    loop {
        let message = match reader.next_message() {
            Ok(Some(message)) => message,
            Ok(None) => return None,
            Err(error) => {
                tracing::info!(%error, "protocol error");
                return Some(Close::with_error(&error.to_string()));
            }
        };
        match message {
            HubMessage::Invocation {
                invocation_id,
                target,
                arguments,
                ..
            } => invoke(connection, caller, invocation_id, target, arguments).await,
            HubMessage::StreamInvocation {
                invocation_id,
                target,
                ..
            } => {
                let error = crate::hub::HubError::UnknownMethod.completion_text(&target);
                complete(caller, invocation_id, CompletionOutcome::Error(error));
            }
            HubMessage::Ping => *client_pinged = true,
            HubMessage::Close { .. } => return Some(Close::ClientLeft),
            HubMessage::CancelInvocation { .. }
            | HubMessage::StreamItem { .. }
            | HubMessage::Completion { .. }
            | HubMessage::Ack { .. }
            | HubMessage::Sequence { .. } => {}
        }
    }
}

async fn invoke(
    connection: &Connection,
    caller: &mut Caller,
    invocation_id: Option<String>,
    target: String,
    arguments: Vec<serde_json::Value>,
) {
    let span = tracing::info_span!("invoke", %target, invocation_id = invocation_id.as_deref());
    let outcome = connection
        .hub
        .invoke(
            &connection.services,
            caller,
            &target,
            Arguments::new(arguments),
        )
        .instrument(span.clone())
        .await;
    let outcome = match outcome {
        Ok(None) => CompletionOutcome::Void,
        Ok(Some(value)) => CompletionOutcome::Result(value),
        Err(error) => {
            span.in_scope(|| tracing::info!(%error, "invocation failed"));
            CompletionOutcome::Error(error.completion_text(&target))
        }
    };
    // A non-blocking invocation (no id) gets no reply at all, not even an error.
    if let Some(invocation_id) = invocation_id {
        complete(caller, invocation_id, outcome);
    }
}

fn complete(caller: &Caller, invocation_id: String, outcome: CompletionOutcome) {
    let message = HubMessage::Completion {
        invocation_id,
        outcome,
    };
    let _ = caller
        .outbound
        .send(frame(caller.protocol, caller.protocol.encode(&message)));
}

/// Reads the handshake request; answers it. `None` when the connection ends
/// here (error answered, timeout, or client gone).
async fn handshake<S>(
    inbound: &mut S,
    outbound: &Outbound,
    config: &SessionConfig,
) -> Option<(Protocol, Bytes)>
where
    S: Stream<Item = Inbound> + Unpin,
{
    let mut buffer = BytesMut::new();
    let deadline = Instant::now() + config.handshake_timeout;
    loop {
        match Handshake::parse(&buffer, config.max_message_size) {
            Ok(Some((handshake, consumed))) => {
                let protocol = handshake.protocol;
                outbound.send_final(frame(protocol, Handshake::success_response()));
                return Some((protocol, buffer.split_off(consumed).freeze()));
            }
            Ok(None) => {}
            Err(error) => {
                tracing::info!(%error, "handshake refused");
                outbound.send_final(Frame::Text(error.response()));
                return None;
            }
        }
        tokio::select! {
            chunk = inbound.next() => buffer.extend_from_slice(&chunk?),
            () = tokio::time::sleep_until(deadline) => {
                tracing::info!("handshake timeout");
                outbound.send_final(Frame::Text(HandshakeError::TimedOut.response()));
                return None;
            }
        }
    }
}

fn frame(protocol: Protocol, bytes: Bytes) -> Frame {
    match protocol.transfer_format() {
        TransferFormat::Text => Frame::Text(bytes),
        TransferFormat::Binary => Frame::Binary(bytes),
    }
}

/// When the credential expires, as a tokio instant.
fn credential_expiry(identity: &Identity) -> Instant {
    let now = chrono::Utc::now().timestamp();
    let remaining = u64::try_from(identity.expires_at.saturating_sub(now)).unwrap_or(0);
    // Far-future expiries are capped so the instant cannot overflow.
    Instant::now() + Duration::from_secs(remaining.min(10 * 365 * 24 * 3600))
}
