//! The serving half: this gateway answering other gateways' requests for its connections.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use pulse_bus::{Incoming, Requests};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{connection_name, issuer_name, wire, Ask, Forwarding};
use crate::{
    session::{AttachError, ClaimRefused},
    transport::{
        answer::Answer,
        long_polling::{self, MAX_POLL_BYTES},
        sends, AppState,
    },
};

/// How long a connection's start waits for its subscription on the bus.
const SERVE_WITHIN: Duration = Duration::from_secs(2);

impl Forwarding {
    /// Serves `gw.<issuer>` (claims and requests for connections this gateway negotiated)
    /// until shutdown. Without the bus, other gateways cannot reach this one's connections;
    /// clients that keep to it are unaffected.
    pub(crate) async fn serve_issued(self: &Arc<Self>, state: AppState, stop: CancellationToken) {
        let Some(name) = issuer_name(self.issuer.as_str()) else {
            return;
        };
        let requests = match self.bus.serve(&name).await {
            Ok(requests) => requests,
            Err(error) => {
                tracing::error!(%error, "cannot serve other gateways; clients must stick to one gateway");
                return;
            }
        };
        let forwarding = self.clone();
        let in_flight = self.in_flight.clone();
        tokio::spawn(serve_until(requests, stop, in_flight, move |incoming| {
            let (state, forwarding) = (state.clone(), forwarding.clone());
            async move { forwarding.answer_as_issuer(&state, incoming).await }
        }));
    }

    /// Serves `conn.<token>` for a long-polling or SSE connection that started here, for as
    /// long as the registry holds it.
    pub(crate) async fn serve_connection(self: &Arc<Self>, state: &AppState, token: &str) {
        let Some(name) = connection_name(token) else {
            return;
        };
        // Bounded: with the bus down, the connection still serves the requests that reach
        // this gateway.
        let requests = match tokio::time::timeout(SERVE_WITHIN, self.bus.serve(&name)).await {
            Ok(Ok(requests)) => requests,
            Ok(Err(error)) => {
                tracing::warn!(%error, "requests for this connection reaching other gateways will fail");
                return;
            }
            Err(_) => {
                tracing::warn!("the bus did not take this connection's subscription in time; requests for it reaching other gateways will fail");
                return;
            }
        };
        let stop = CancellationToken::new();
        state
            .registry
            .keep_until_removed(token, stop.clone().drop_guard());
        let (state, forwarding) = (state.clone(), self.clone());
        let in_flight = self.in_flight.clone();
        tokio::spawn(serve_until(requests, stop, in_flight, move |incoming| {
            let (state, forwarding) = (state.clone(), forwarding.clone());
            async move {
                let answer = match wire::Forwarded::decode(&incoming.payload) {
                    Some(forwarded) => {
                        forwarding.metrics.served(&forwarded.ask);
                        answer_here(&state, forwarded).await
                    }
                    None => Answer::Refused(AttachError::NotFound),
                };
                respond(incoming, wire::encode_answer(&answer)).await;
            }
        }));
    }

    /// Waits for the answers being worked out for other gateways and sees them onto the bus:
    /// the last thing a stopping gateway does, so no gateway waits in vain for an answer (a
    /// long-polling client's last DELETE, say).
    pub(crate) async fn finish(&self) {
        self.in_flight.close();
        self.in_flight.wait().await;
        if let Err(error) = self.bus.flush().await {
            tracing::warn!(%error, "answers to other gateways may be lost");
        }
    }

    async fn answer_as_issuer(&self, state: &AppState, incoming: Incoming) {
        let Some(forwarded) = wire::Forwarded::decode(&incoming.payload) else {
            return respond(incoming, wire::encode_answer(&Answer::Unanswered)).await;
        };
        self.metrics.served(&forwarded.ask);
        let token = forwarded.token.clone();
        if let Ask::Claim(_) = forwarded.ask {
            let moved = || self.moved.insert(&token);
            let claim = match state
                .registry
                .claim(&token, forwarded.hub, forwarded.user, moved)
            {
                Ok(claimed) => Ok(claimed),
                Err(ClaimRefused::NotFound) if self.moved.contains(&token) => {
                    Err(ClaimRefused::Started)
                }
                Err(refused) => Err(refused),
            };
            return respond(incoming, wire::encode_claim(&claim)).await;
        }
        let answer = if self.moved.contains(&token) {
            Answer::Elsewhere
        } else {
            match answer_here(state, forwarded).await {
                // Claimed between the look at `moved` and the registry's: the connection is
                // remembered as moved before it leaves the registry.
                Answer::Refused(AttachError::NotFound) if self.moved.contains(&token) => {
                    Answer::Elsewhere
                }
                answer => answer,
            }
        };
        respond(incoming, wire::encode_answer(&answer)).await;
    }
}

/// Hands each request to `answer` in a task of its own (a poll can wait for the poll timeout
/// while a send for the same connection comes), tracked in `in_flight`, until `stop` or the
/// bus ends the stream.
async fn serve_until<F, Fut>(
    mut requests: Requests,
    stop: CancellationToken,
    in_flight: TaskTracker,
    answer: F,
) where
    F: Fn(Incoming) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            incoming = requests.next() => match incoming {
                Some(incoming) => {
                    in_flight.spawn(answer(incoming));
                }
                None => break,
            },
        }
    }
}

async fn respond(incoming: Incoming, answer: bytes::Bytes) {
    if let Err(error) = incoming.respond(answer).await {
        tracing::debug!(%error, "the asking gateway went away before its answer");
    }
}

/// A request from another gateway for a connection held here, served as if its client had
/// sent it here.
async fn answer_here(state: &AppState, forwarded: wire::Forwarded) -> Answer {
    let wire::Forwarded {
        hub,
        user,
        token,
        ask,
    } = forwarded;
    match ask {
        Ask::Poll { max_bytes, wait } => match state.registry.long_poll(&token, hub, user) {
            Ok(link) => {
                let max_bytes = max_bytes.min(MAX_POLL_BYTES);
                let wait = wait.min(state.poll_timeout);
                long_polling::poll(state, link, &token, max_bytes, wait).await
            }
            Err(error) => Answer::Refused(error),
        },
        Ask::Send(body) => sends::send_here(state, &token, hub, user, body).await,
        Ask::Delete => sends::delete_here(state, &token, hub, user),
        // Claims are for the issuer's name only.
        Ask::Claim(_) => Answer::Refused(AttachError::NotFound),
    }
}
