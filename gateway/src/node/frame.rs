//! What a transport writes: one message's bytes, and for an event, when the event occurred.
//!
//! The occurrence time rides in the frame so the writer can time the push (event committed →
//! frame written) once per write, without the fan-out doing anything per recipient: it is
//! parsed once per event, stamped once per encoding, and copied with the frame's other fields.

use std::{
    num::NonZeroU64,
    time::{SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;

use crate::protocol::TransferFormat;

/// When an event occurred (its envelope's `occurredAt`, stamped by the service in the
/// command's transaction), in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurred(NonZeroU64);

impl Occurred {
    /// `None` for a time that is not RFC 3339, or not after the epoch.
    pub fn parse(rfc3339: &str) -> Option<Self> {
        let micros = chrono::DateTime::parse_from_rfc3339(rfc3339)
            .ok()?
            .timestamp_micros();
        u64::try_from(micros)
            .ok()
            .and_then(NonZeroU64::new)
            .map(Self)
    }

    /// Microseconds from then to now; 0 when this clock is behind the service's.
    pub fn micros_ago(self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
            });
        now.saturating_sub(self.0.get())
    }
}

/// One transport message: a complete, already framed hub message or several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    bytes: Bytes,
    /// UTF-8 text (JSON protocol), for a WebSocket text frame; otherwise binary (MessagePack,
    /// gRPC envelopes). Text is checked to be UTF-8 once, when the frame is made, not once per
    /// recipient.
    text: bool,
    /// Set on the frames of events (see [`Occurred`]); pings, completions and the like have none.
    occurred: Option<Occurred>,
}

impl Frame {
    /// The frame type a protocol's transfer format calls for (the JS client rejects JSON in
    /// binary frames and MessagePack in text frames).
    pub fn new(format: TransferFormat, bytes: Bytes) -> Self {
        match format {
            TransferFormat::Text => Self::text(bytes),
            TransferFormat::Binary => Self::binary(bytes),
        }
    }

    /// A text frame. The JSON encoders only write UTF-8; anything else is a bug, logged and
    /// sent with its invalid bytes replaced rather than dropped, so the sequence stays whole.
    pub fn text(bytes: Bytes) -> Self {
        let bytes = match std::str::from_utf8(&bytes) {
            Ok(_) => bytes,
            Err(error) => {
                tracing::error!(%error, "text frame is not UTF-8");
                Bytes::from(String::from_utf8_lossy(&bytes).into_owned())
            }
        };
        Self::of(bytes, true)
    }

    pub fn binary(bytes: Bytes) -> Self {
        Self::of(bytes, false)
    }

    fn of(bytes: Bytes, text: bool) -> Self {
        Self {
            bytes,
            text,
            occurred: None,
        }
    }

    /// The frame of an event that occurred at `occurred`.
    pub(super) fn stamped(self, occurred: Option<Occurred>) -> Self {
        Self { occurred, ..self }
    }

    /// When the event this frame carries occurred; `None` for a frame that is not an event.
    pub fn occurred(&self) -> Option<Occurred> {
        self.occurred
    }

    /// The frame's bytes, whatever its type.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The frame's bytes, for a transport that keeps them until they are written.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Whether the bytes are UTF-8 text, for a WebSocket text frame.
    pub fn is_text(&self) -> bool {
        self.text
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_occurrence_time_parses_to_microseconds_and_garbage_to_none() {
        let occurred = Occurred::parse("2026-12-07T08:00:00.123456Z").expect("rfc 3339");
        assert_eq!(occurred.0.get(), 1_796_630_400_123_456);
        assert_eq!(Occurred::parse("not a time"), None);
        assert_eq!(Occurred::parse(""), None);
        assert_eq!(Occurred::parse("1960-01-01T00:00:00Z"), None);
    }

    #[test]
    fn a_recent_event_is_a_few_microseconds_old_and_a_future_one_zero() {
        let now = chrono::Utc::now();
        let past =
            Occurred::parse(&(now - chrono::Duration::seconds(2)).to_rfc3339()).expect("a time");
        let age = past.micros_ago();
        assert!((2_000_000..3_000_000).contains(&age), "{age}");
        let future =
            Occurred::parse(&(now + chrono::Duration::seconds(60)).to_rfc3339()).expect("a time");
        assert_eq!(future.micros_ago(), 0);
    }
}
