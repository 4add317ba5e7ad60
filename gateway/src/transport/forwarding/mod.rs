//! No sticky sessions: a long poll, a send or a DELETE that reaches a gateway which does not
//! hold its connection is handed over NATS to the gateway that does, and answered exactly as
//! if it had landed there; the first transport request of a connection negotiated on another
//! gateway claims the connection from there and starts it here.
//!
//! Two names are served on the bus (request/reply, `pulse_bus::Bus::serve`):
//! - `gw.<issuer>`, by each gateway, for the connections it negotiated: claims from the gateway
//!   a first transport request reached, and the polls, sends and DELETEs of connections it
//!   holds itself;
//! - `conn.<token>`, by the gateway holding a running long-polling or SSE connection, for its
//!   polls, sends and DELETE (one subscription per such connection, for its life).
//!
//! A request for a connection not held here asks `conn.<token>` first; if nobody serves it,
//! the issuer named by the token's first characters (`protocol::Issuer`). An issuer that handed
//! the connection to another gateway moments ago answers [`Answer::Elsewhere`], and the asker
//! asks the connection's name again for up to ~0.6 s: a NATS cluster spreads a new
//! subscription to all its servers within milliseconds.
//!
//! WebSocket connections are served to no other gateway: a WebSocket that comes back (stateful
//! reconnect) to another gateway is refused with 404 at once, so the official client starts a
//! new connection and catches up (`GetMissedEvents`).
//!
//! Gateways trust one another: the asking gateway authenticated the client, and the holder
//! checks the hub and user it names against the connection's, so a connection token is still
//! useless to anyone but its user. Whoever can publish in the bus namespace is trusted as a
//! gateway.

mod metrics;
mod moved;
mod serve;
mod wire;

use std::time::Duration;

use bytes::Bytes;
use pulse_bus::{Bus, BusErrorKind, ServiceName};
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use self::{
    metrics::{ForwardingMetrics, Outcome},
    moved::Moved,
    wire::Forwarded,
};
use super::{answer::Answer, long_polling::MAX_POLL_BYTES};
use crate::{
    hub::HubKind,
    protocol::{Issuer, TransportType},
    session::{AttachError, ClaimRefused, Claimed},
};

/// What one gateway asks another about a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ask {
    /// A long poll, answered with at most about this many bytes of frames, after at most
    /// `wait` when there is nothing to send.
    Poll {
        max_bytes: usize,
        wait: Duration,
    },
    /// A POST's body.
    Send(Bytes),
    Delete,
    /// Hand over a negotiated connection for its first transport request, of this transport.
    Claim(TransportType),
}

/// How a claim ended.
#[derive(Debug)]
pub(super) enum Claim {
    Claimed(Claimed),
    Refused(ClaimRefused),
    /// The issuer did not answer in time (the connection may be lost).
    Unanswered,
}

/// How long a send, a DELETE or a claim may take on the gateway holding the connection (a send
/// waits while the connection's inbox is full). Also how long a client waits to learn that the
/// gateway holding its connection died with its request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a forwarded poll waits for something to send before it is answered empty (the
/// client polls again). Shorter than the usual poll timeout, so a client whose connection's
/// gateway died with the poll learns it within this and [`POLL_MARGIN`].
const FORWARDED_POLL_WAIT: Duration = Duration::from_secs(10);
/// Added to a forwarded poll's wait for the trip there and back.
const POLL_MARGIN: Duration = Duration::from_secs(2);
/// Pauses between asking a connection again after its issuer said it runs elsewhere.
const AGAIN_AFTER_MS: [u64; 6] = [10, 20, 40, 80, 160, 320];

/// Hands requests for connections held elsewhere to their gateway, and serves this gateway's.
#[derive(Debug)]
pub struct Forwarding {
    bus: Bus,
    /// The answers being worked out for other gateways, waited for before the gateway exits.
    in_flight: TaskTracker,
    /// This gateway's tag (the registry's).
    issuer: Issuer,
    moved: Moved,
    poll_timeout: Duration,
    metrics: ForwardingMetrics,
}

fn connection_name(token: &str) -> Option<ServiceName> {
    ServiceName::new(&["conn", token])
}

fn issuer_name(tag: &str) -> Option<ServiceName> {
    ServiceName::new(&["gw", tag])
}

/// What came back from asking a name.
enum Reply {
    Answered(Bytes),
    NobodyServes,
    Failed(Answer),
}

impl Forwarding {
    pub fn new(bus: Bus, issuer: Issuer, poll_timeout: Duration) -> Self {
        Self {
            bus,
            in_flight: TaskTracker::new(),
            issuer,
            moved: Moved::default(),
            poll_timeout,
            metrics: ForwardingMetrics::default(),
        }
    }

    /// The most bytes of frames a poll asks of another gateway: its answer must fit in one bus
    /// message, with room for a last frame that runs past the limit.
    fn poll_limit(&self) -> usize {
        (self.bus.largest_request() / 2).min(MAX_POLL_BYTES)
    }

    /// A poll for another gateway to answer.
    pub(super) fn poll(&self) -> Ask {
        Ask::Poll {
            max_bytes: self.poll_limit(),
            wait: self.poll_timeout.min(FORWARDED_POLL_WAIT),
        }
    }

    fn timeout(ask: &Ask) -> Duration {
        match ask {
            Ask::Poll { wait, .. } => *wait + POLL_MARGIN,
            _ => ANSWER_TIMEOUT,
        }
    }

    /// Sends `payload` (an encoded `ask`) to `name` and waits for the answer; counted.
    async fn request(
        &self,
        name: &ServiceName,
        ask: &Ask,
        payload: Bytes,
        timeout: Duration,
    ) -> Reply {
        let (reply, outcome) = match self.bus.request(name, payload, timeout).await {
            Ok(answer) => (Reply::Answered(answer), Outcome::Answered),
            Err(error) => match error.kind() {
                BusErrorKind::NoResponder => (Reply::NobodyServes, Outcome::NoResponder),
                BusErrorKind::TooLarge => {
                    (Reply::Failed(Answer::TooLargeToForward), Outcome::Failed)
                }
                _ => {
                    // Not the name: a connection's is its secret token.
                    tracing::warn!(%error, ask = ask.label(), "a gateway did not answer a forwarded request");
                    (Reply::Failed(Answer::Unanswered), Outcome::Failed)
                }
            },
        };
        self.metrics.sent(ask, outcome);
        reply
    }

    /// `pulse_gateway_forwarded_requests_total` and `…_served_total`.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        self.metrics.render(out);
    }

    /// A poll, send or DELETE for a connection this gateway does not hold, answered by the
    /// gateway that does (404 when none does).
    pub(super) async fn ask(&self, token: &str, hub: HubKind, user: Uuid, ask: Ask) -> Answer {
        let Some(issuer) = Issuer::of(token) else {
            return Answer::Refused(AttachError::NotFound);
        };
        let timeout = Self::timeout(&ask);
        let forwarded = Forwarded {
            hub,
            user,
            token: token.to_owned(),
            ask,
        };
        let (ask, payload) = (&forwarded.ask, forwarded.encode());
        if let Some(answer) = self.ask_connection(token, ask, &payload, timeout).await {
            return answer;
        }
        let answer = if issuer == self.issuer.as_str() {
            self.elsewhere_or_not_found(token)
        } else {
            let Some(name) = issuer_name(issuer) else {
                return Answer::Refused(AttachError::NotFound);
            };
            match self.request(&name, ask, payload.clone(), timeout).await {
                Reply::Answered(answer) => {
                    wire::decode_answer(&answer).unwrap_or(Answer::Unanswered)
                }
                Reply::NobodyServes => Answer::Refused(AttachError::NotFound),
                Reply::Failed(answer) => answer,
            }
        };
        if answer != Answer::Elsewhere {
            return answer;
        }
        for pause in AGAIN_AFTER_MS {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            if let Some(answer) = self.ask_connection(token, ask, &payload, timeout).await {
                return answer;
            }
        }
        Answer::Refused(AttachError::NotFound)
    }

    /// The answer of the gateway serving `conn.<token>`; `None` when none does.
    async fn ask_connection(
        &self,
        token: &str,
        ask: &Ask,
        payload: &Bytes,
        timeout: Duration,
    ) -> Option<Answer> {
        let name = connection_name(token)?;
        match self.request(&name, ask, payload.clone(), timeout).await {
            Reply::Answered(answer) => {
                Some(wire::decode_answer(&answer).unwrap_or(Answer::Unanswered))
            }
            Reply::NobodyServes => None,
            Reply::Failed(answer) => Some(answer),
        }
    }

    /// For a connection this gateway issued and does not hold: handed to another gateway a
    /// moment ago, or unknown.
    fn elsewhere_or_not_found(&self, token: &str) -> Answer {
        if self.moved.contains(token) {
            Answer::Elsewhere
        } else {
            Answer::Refused(AttachError::NotFound)
        }
    }

    /// Claims a connection another gateway negotiated, for its first transport request, which
    /// reached this gateway.
    pub(super) async fn claim(
        &self,
        token: &str,
        hub: HubKind,
        user: Uuid,
        transport: TransportType,
    ) -> Claim {
        let not_found = Claim::Refused(ClaimRefused::NotFound);
        let Some(issuer) = Issuer::of(token) else {
            return not_found;
        };
        if issuer == self.issuer.as_str() {
            return match self.elsewhere_or_not_found(token) {
                Answer::Elsewhere => Claim::Refused(ClaimRefused::Started),
                _ => not_found,
            };
        }
        let Some(name) = issuer_name(issuer) else {
            return not_found;
        };
        let forwarded = Forwarded {
            hub,
            user,
            token: token.to_owned(),
            ask: Ask::Claim(transport),
        };
        match self
            .request(&name, &forwarded.ask, forwarded.encode(), ANSWER_TIMEOUT)
            .await
        {
            Reply::Answered(answer) => match wire::decode_claim(&answer) {
                Some(Ok(claimed)) => Claim::Claimed(claimed),
                Some(Err(refused)) => Claim::Refused(refused),
                None => Claim::Unanswered,
            },
            Reply::NobodyServes => not_found,
            Reply::Failed(_) => Claim::Unanswered,
        }
    }
}
