//! One SignalR connection from handshake to close.
//!
//! Transports feed incoming bytes as [`Inbound`] chunks and write whatever is queued on the
//! connection's [`Outbound`]. Everything in between — handshake, parsing, keep-alive, client
//! timeout, stateful-reconnect numbering, invocations, and the Close message that says why a
//! connection ends — happens here, the same for every transport. Invocations of one connection
//! run one at a time, as in ASP.NET Core.

use std::{future::Future, sync::Arc, time::Duration};

use futures::FutureExt;

use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{
    handshake::handshake,
    inbox::InboxReceiver,
    keep_alive::{Due, KeepAlive},
    CloseReason, CloseSchedule, Inbound, Incoming, Replay, SessionConfig, SessionMetrics,
    SignalrEncoder,
};
use crate::{
    hub::{until_revoked, Arguments, Caller, HubError, HubKind, Services},
    node::{Frame, Outbound},
    principal::Principal,
    protocol::{CompletionOutcome, HubMessage, MessageReader, ProtocolError, TransportType},
    task_boundary::{catch_panic, Panicked},
};

/// How often a stateful connection acknowledges what it received (as .NET and the JS client do).
const ACK_INTERVAL: Duration = Duration::from_secs(1);

/// What a connection needs to run.
pub struct Connection {
    pub hub: HubKind,
    pub services: Arc<Services>,
    pub principal: Principal,
    pub token: String,
    pub connection_id: Arc<str>,
    pub config: SessionConfig,
    /// The transport serving it: decides keep-alive and which protocols fit.
    pub transport: TransportType,
    /// Cancelled when the gateway shuts down: the connection then closes at
    /// its turn in `close_schedule`.
    pub shutdown: CancellationToken,
    pub close_schedule: Arc<CloseSchedule>,
    /// Cancelled when the credential is revoked (virtual keys; `None` for credentials that
    /// cannot be).
    pub revoked: Option<CancellationToken>,
    /// The gateway's counts of handshakes and invocations.
    pub metrics: Arc<SessionMetrics>,
}

/// How the connection loop ended.
enum End {
    /// The client sent Close or its transport went away for good.
    ClientLeft,
    /// The server ends the connection and tells the client why.
    Closed(CloseReason),
}

/// Runs the connection until the client leaves, a rule closes it, or the gateway shuts down.
/// The Close message, when there is one, is the last frame queued on `outbound`. `replay` is set
/// when stateful reconnect was negotiated; the handshake version decides whether it is used.
///
/// A plain function returning the future, not an `async fn`: the arguments then live only in the
/// future that uses them instead of twice, once as arguments and once moved into `work`.
pub(super) fn run_connection(
    mut connection: Connection,
    mut inbound: InboxReceiver,
    terminate: CancellationToken,
    outbound: Outbound,
    replay: Option<Arc<Replay>>,
) -> impl Future<Output = ()> {
    let span = tracing::info_span!(
        "connection",
        conn_id = %connection.connection_id,
        user_id = %connection.principal.id(),
        hub = connection.hub.name(),
        transport = ?connection.transport,
    );
    let conn_id = connection.connection_id.clone();
    let work = async move {
        let config = &connection.config;
        // Boxed, as are the hub calls below: a connection holds its future for its whole life,
        // mostly idle, and these are large while they run only briefly.
        let Some(accepted) = Box::pin(handshake(
            &mut inbound,
            &terminate,
            &outbound,
            config,
            connection.transport,
            &connection.metrics,
        ))
        .await
        else {
            return;
        };
        let protocol = accepted.protocol;
        // The JS client asks for version 2 only when it will use stateful reconnect.
        let replay = replay.filter(|_| accepted.version >= 2);
        if let Some(replay) = &replay {
            replay.enable(protocol);
        }
        // The caller keeps the token as the header it forwards; the connection's copy is let go
        // at the end of this statement rather than held for the connection's life.
        let Some(mut caller) = Caller::new(
            connection.connection_id.clone(),
            connection.principal.clone(),
            &std::mem::take(&mut connection.token),
            protocol,
            outbound.clone(),
            Arc::new(SignalrEncoder::new(protocol)),
        ) else {
            tracing::error!("credential cannot be forwarded");
            return;
        };
        let conn_id = &connection.connection_id;
        let set_up = catch_panic(
            conn_id,
            Box::pin(connection.hub.connected(&connection.services, &mut caller)),
        )
        .await;
        let set_up = match set_up {
            Ok(result) => {
                result.map_err(|error| tracing::warn!(%error, "connection set-up failed"))
            }
            Err(Panicked) => Err(()),
        };
        if set_up.is_err() {
            Box::pin(
                connection
                    .hub
                    .disconnected(&connection.services, &mut caller),
            )
            .await;
            outbound.send_final(Frame::new(
                protocol.transfer_format(),
                protocol.encode(&CloseReason::SetupFailed.message()),
            ));
            return;
        }
        tracing::info!(
            protocol = protocol.name(),
            stateful = replay.is_some(),
            "connected"
        );
        let mut reader = MessageReader::new(protocol, config.max_message_size);
        reader.push(&accepted.leftover);
        let mut session = Session {
            connection: &connection,
            caller,
            reader,
            incoming: replay.as_ref().map(|_| Incoming::new()),
            replay,
            // Long polling has inherent keep-alive: neither side pings (the JS client runs no
            // server timeout on it either).
            keep_alive: KeepAlive::new(
                (connection.transport != TransportType::LongPolling)
                    .then_some(config.keep_alive_interval),
                config.client_timeout,
                Instant::now(),
            ),
        };
        // A panic while serving is a defect of ours: the connection still leaves its groups and
        // tells the client, as for any other end.
        let end = catch_panic(conn_id, session.serve(&mut inbound, &terminate))
            .await
            .unwrap_or(End::Closed(CloseReason::ServerFault));
        Box::pin(
            connection
                .hub
                .disconnected(&connection.services, &mut session.caller),
        )
        .await;
        if let End::Closed(reason) = &end {
            tracing::info!(?reason, "closing");
            outbound.send_final(Frame::new(
                protocol.transfer_format(),
                protocol.encode(&reason.message()),
            ));
        }
        tracing::info!("disconnected");
    }
    .instrument(span.clone());
    // Whatever panics past the guards above (the hub's own cleanup), the connection still ends:
    // returning lets its transport close and its registration go.
    catch_panic(conn_id, work).instrument(span).map(drop)
}

/// A connection after its handshake.
struct Session<'c> {
    connection: &'c Connection,
    caller: Caller,
    reader: MessageReader,
    /// Stateful reconnect: numbering of what the client sends, and what the server sent.
    incoming: Option<Incoming>,
    replay: Option<Arc<Replay>>,
    keep_alive: KeepAlive,
}

impl Session<'_> {
    async fn serve(&mut self, inbound: &mut InboxReceiver, terminate: &CancellationToken) -> End {
        let config = &self.connection.config;
        let protocol = self.caller.protocol;
        let outbound = self.caller.outbound.clone();
        let ping = Frame::new(
            protocol.transfer_format(),
            protocol.encode(&HubMessage::Ping),
        );
        // Only a stateful connection acknowledges; the others hold no timer for it.
        let mut ack = self.incoming.as_ref().map(|_| {
            let mut ack = tokio::time::interval(ACK_INTERVAL);
            ack.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ack
        });
        let expiry = self.connection.principal.expiry();
        // Set once the gateway drains: the connection serves on until then.
        let mut closing_at = None;
        loop {
            if let Some(end) = self.drain().await {
                return end;
            }
            let keep_alive_due = self.keep_alive.due_at();
            tokio::select! {
                chunk = inbound.recv() => match chunk {
                    Some(Inbound::Data(bytes)) => {
                        self.keep_alive.received(Instant::now());
                        self.reader.push(&bytes);
                    }
                    Some(Inbound::Reattached) => {
                        tracing::info!("socket replaced; waiting for the client's Sequence");
                        self.keep_alive.received(Instant::now());
                        self.reader = MessageReader::new(protocol, config.max_message_size);
                        if let Some(incoming) = &mut self.incoming {
                            incoming.reattached();
                        }
                    }
                    Some(Inbound::Oversized { limit }) => {
                        return End::Closed(CloseReason::Protocol(ProtocolError::MessageTooLarge { limit }));
                    }
                    None => return End::ClientLeft,
                },
                () = terminate.cancelled() => return End::ClientLeft,
                () = until(keep_alive_due) => match self.keep_alive.tick(Instant::now()) {
                    Some(Due::Ping) => {
                        let _ = outbound.send(ping.clone());
                    }
                    Some(Due::ClientTimedOut) => return End::Closed(CloseReason::ClientTimeout),
                    None => {}
                },
                () = tick(&mut ack), if ack.is_some() => {
                    if let Some(message) = self.incoming.as_mut().and_then(Incoming::pending_ack) {
                        let _ = outbound.send(Frame::new(protocol.transfer_format(), protocol.encode(&message)));
                    }
                }
                () = tokio::time::sleep_until(expiry) => {
                    return End::Closed(CloseReason::CredentialExpired);
                }
                () = outbound.overflowed() => return End::Closed(CloseReason::Overloaded),
                () = self.connection.shutdown.cancelled(), if closing_at.is_none() => {
                    closing_at = Some(self.connection.close_schedule.turn());
                }
                () = until(closing_at) => return End::Closed(CloseReason::ShuttingDown),
                () = until_revoked(self.connection.revoked.as_ref()) => {
                    return End::Closed(CloseReason::CredentialRevoked);
                }
            }
        }
    }

    /// Handles every complete message received so far; `Some` ends the connection.
    async fn drain(&mut self) -> Option<End> {
        loop {
            let message = match self.reader.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => return None,
                Err(error) => {
                    tracing::info!(%error, "protocol error");
                    return Some(End::Closed(CloseReason::Protocol(error)));
                }
            };
            if let Some(incoming) = &mut self.incoming {
                match incoming.accept(&message) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(reason) => return Some(End::Closed(reason)),
                }
            }
            match message {
                HubMessage::Invocation {
                    invocation_id,
                    target,
                    arguments,
                    ..
                } => {
                    if let Some(reason) = self.invoke(invocation_id, target, arguments).await {
                        return Some(End::Closed(reason));
                    }
                }
                HubMessage::StreamInvocation {
                    invocation_id,
                    target,
                    ..
                } => {
                    let error = HubError::UnknownMethod.completion_text(&target);
                    self.complete(invocation_id, CompletionOutcome::Error(error));
                }
                HubMessage::Ping => self.keep_alive.client_pinged(),
                HubMessage::Close { .. } => return Some(End::ClientLeft),
                HubMessage::Ack { sequence_id } => {
                    if let Some(replay) = &self.replay {
                        replay.ack(sequence_id);
                    }
                }
                HubMessage::CancelInvocation { .. }
                | HubMessage::StreamItem { .. }
                | HubMessage::Completion { .. }
                | HubMessage::Sequence { .. } => {}
            }
        }
    }

    /// Runs a hub method; `Some` when its failure ends the connection.
    async fn invoke(
        &mut self,
        invocation_id: Option<String>,
        target: String,
        arguments: Vec<serde_json::Value>,
    ) -> Option<CloseReason> {
        let connection = self.connection;
        let span = tracing::info_span!(
            "invoke",
            otel.kind = "server",
            hub = connection.hub.name(),
            method = %target,
            invocation_id = invocation_id.as_deref(),
        );
        // Each invocation is a trace of its own, not a part of the
        // connection's (which lasts as long as the connection).
        pulse_telemetry::start_trace(&span);
        let outcome = Box::pin(
            connection
                .hub
                .invoke(
                    &connection.services,
                    &mut self.caller,
                    &target,
                    Arguments::new(arguments),
                )
                .instrument(span.clone()),
        )
        .await;
        connection
            .metrics
            .invoked(connection.hub.name(), &target, outcome.as_ref().map(drop));
        let (outcome, close) = match outcome {
            Ok(None) => (CompletionOutcome::Void, None),
            Ok(Some(value)) => (CompletionOutcome::Result(value), None),
            Err(error) => {
                span.in_scope(|| tracing::info!(%error, "invocation failed"));
                let close = matches!(error, HubError::CredentialRevoked(_))
                    .then_some(CloseReason::CredentialRevoked);
                (
                    CompletionOutcome::Error(error.completion_text(&target)),
                    close,
                )
            }
        };
        // A non-blocking invocation (no id) gets no reply at all, not even an error.
        if let Some(invocation_id) = invocation_id {
            self.complete(invocation_id, outcome);
        }
        close
    }

    fn complete(&self, invocation_id: String, outcome: CompletionOutcome) {
        let protocol = self.caller.protocol;
        let message = HubMessage::Completion {
            invocation_id,
            outcome,
        };
        let _ = self.caller.outbound.send(Frame::new(
            protocol.transfer_format(),
            protocol.encode(&message),
        ));
    }
}

/// Waits until `at`; never, without it.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits for the next tick of `interval`; never, without one.
async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future an async fn of five arguments returns, without calling it.
    fn future_size<A, B, C, D, E, F: Future>(_: fn(A, B, C, D, E) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every connection holds this future for its whole life, mostly idle: the hub calls and
    /// the handshake are boxed so they only take memory while they run. Re-inlining one of them
    /// (several KB), or awaiting a future that was moved in as an `async fn` argument (which keeps
    /// it twice), breaks this budget. Debug build: 29 KB before, 2.1 KB after.
    #[test]
    fn idle_connection_future_stays_small() {
        let size = future_size(run_connection);
        assert!(size <= 2_560, "connection future is {size} bytes");
    }
}
