//! Request/reply between processes on the bus, beside the event streams: a
//! process serves a name, another asks it something and waits for the answer.
//! Gateways use it to hand a long poll or a send to the gateway that holds
//! the connection, so clients need no sticky sessions.
//!
//! Plain NATS request/reply, not JetStream: an answer is wanted now or never,
//! and nothing is stored. Nobody serving a name is told at once
//! ([`BusErrorKind::NoResponder`]) rather than after the timeout.

mod memory;
mod nats;

use std::{fmt, time::Duration};

use bytes::Bytes;
use futures::stream::BoxStream;

pub(crate) use memory::Responders;

use crate::{Bus, BusError, BusErrorKind};

/// What a process serves: dot-separated tokens of letters, digits, `-` and
/// `_`, under the bus's namespace. Checked when made, so a name built from
/// what a client sent (a connection token) can never be a wildcard that
/// reaches other servers' requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceName(String);

impl ServiceName {
    /// `tokens` joined with dots; `None` if any is empty or has another character.
    pub fn new(tokens: &[&str]) -> Option<Self> {
        let valid = !tokens.is_empty()
            && tokens.iter().all(|token| {
                !token.is_empty()
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        valid.then(|| Self(tokens.join(".")))
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One request to a served name. Answer it with [`Incoming::respond`];
/// dropping it unanswered leaves the asker to its timeout.
#[derive(Debug)]
pub struct Incoming {
    pub payload: Bytes,
    reply: Reply,
}

#[derive(Debug)]
enum Reply {
    Nats(nats::Reply),
    Memory(memory::Reply),
}

impl Incoming {
    pub async fn respond(self, payload: Bytes) -> Result<(), BusError> {
        match self.reply {
            Reply::Nats(reply) => reply.send(payload).await,
            Reply::Memory(reply) => reply.send(payload),
        }
    }
}

/// The requests to one served name. Dropping it stops serving the name.
pub type Requests = BoxStream<'static, Incoming>;

impl Bus {
    /// Serves `name` until the returned stream is dropped. On NATS, the
    /// subscription is known to the server this process is connected to when
    /// this returns; other servers of a cluster learn of it moments later.
    pub async fn serve(&self, name: &ServiceName) -> Result<Requests, BusError> {
        match self {
            Bus::Nats(bus) => bus.serve(name).await,
            Bus::Memory(bus) => Ok(bus.responders().serve(name)),
        }
    }

    /// Asks whoever serves `name` and waits up to `timeout` for the answer.
    /// [`BusErrorKind::NoResponder`] when nobody serves it,
    /// [`BusErrorKind::Request`] when no answer came.
    pub async fn request(
        &self,
        name: &ServiceName,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        let largest = self.largest_request();
        if payload.len() > largest {
            return Err(crate::too_large(payload.len(), largest));
        }
        match self {
            Bus::Nats(bus) => bus.request(name, payload, timeout).await,
            Bus::Memory(bus) => bus.responders().request(name, payload, timeout).await,
        }
    }

    /// Returns once everything this process published (answers included) reached the broker:
    /// what a process does before it exits, so its last answers are not lost with it.
    pub async fn flush(&self) -> Result<(), BusError> {
        match self {
            Bus::Nats(bus) => bus
                .client()
                .flush()
                .await
                .map_err(|e| BusError::new(BusErrorKind::Request, e)),
            Bus::Memory(_) => Ok(()),
        }
    }

    /// The largest request or answer payload the broker carries.
    pub fn largest_request(&self) -> usize {
        match self {
            Bus::Nats(bus) => bus.largest_message(),
            Bus::Memory(_) => crate::DEFAULT_MAX_MESSAGE_BYTES,
        }
        .saturating_sub(crate::HEADER_ROOM)
    }
}

fn no_responder(name: &ServiceName) -> BusError {
    BusError::new(BusErrorKind::NoResponder, format!("nobody serves {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_made_of_subject_tokens_only() {
        assert_eq!(
            ServiceName::new(&["conn", "aZ09-_"]).map(|n| n.to_string()),
            Some("conn.aZ09-_".to_owned())
        );
        for bad in [
            &["conn", "*"][..],
            &["conn", ">"],
            &["conn", "a.b"],
            &["conn", ""],
            &["a b"],
            &[],
        ] {
            assert_eq!(ServiceName::new(bad), None, "{bad:?}");
        }
    }
}
