use std::fmt;

use thiserror::Error;

/// The broker's own error, kept as the source so logs show what it said
/// while callers decide on the [`BusErrorKind`] alone.
type Source = Box<dyn std::error::Error + Send + Sync>;

/// A bus operation that did not happen. Callers decide on [`BusError::kind`]
/// (as with async-nats' `Error<Kind>`), never on the message, which is for
/// logs.
#[derive(Debug, Error)]
#[error("{kind}: {source}")]
pub struct BusError {
    kind: BusErrorKind,
    #[source]
    source: Source,
}

/// What failed. Every kind but [`BusErrorKind::InvalidNamespace`] and
/// [`BusErrorKind::TooLarge`] is transient from the caller's point of view:
/// publishers retry, subscribers resubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusErrorKind {
    /// The broker URL or connection options were refused.
    Connect,
    /// The broker did not store (or did not acknowledge) a message.
    Publish,
    /// The broker refused a message because the one it must follow
    /// ([`crate::Outgoing::after`]) was not the last stored: that one failed, was a duplicate
    /// or something else came between. Nothing was stored; publish it again after its
    /// predecessor.
    OutOfTurn,
    /// The message is larger than the broker takes; it was not sent, and never will be.
    TooLarge,
    /// A subscription could not be opened or was broken.
    Subscribe,
    /// A stream could neither be created nor found.
    Stream,
    /// The namespace cannot be a subject token and stream name.
    InvalidNamespace,
    /// Nobody serves the name a request was sent to ([`crate::Bus::request`]).
    NoResponder,
    /// A request got no answer in time, or could not be sent.
    Request,
}

impl BusError {
    pub(crate) fn new(kind: BusErrorKind, source: impl Into<Source>) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// What failed, for callers that decide something on it; the message
    /// and source are for logs.
    pub fn kind(&self) -> BusErrorKind {
        self.kind
    }
}

impl fmt::Display for BusErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BusErrorKind::Connect => "cannot connect to the broker",
            BusErrorKind::Publish => "broker did not acknowledge the publish",
            BusErrorKind::OutOfTurn => "broker refused a message out of turn",
            BusErrorKind::TooLarge => "message larger than the broker takes",
            BusErrorKind::Subscribe => "subscription failed",
            BusErrorKind::Stream => "stream setup failed",
            BusErrorKind::InvalidNamespace => "invalid bus namespace",
            BusErrorKind::NoResponder => "nobody serves the request's name",
            BusErrorKind::Request => "request not answered",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_kind_and_keeps_the_cause() {
        let error = BusError::new(BusErrorKind::Publish, "timed out");
        assert_eq!(error.kind(), BusErrorKind::Publish);
        assert_eq!(
            error.to_string(),
            "broker did not acknowledge the publish: timed out"
        );
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("timed out"));
    }
}
