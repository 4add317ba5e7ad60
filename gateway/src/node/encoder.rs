use pulse_proto::events::v1::{Event, EventEnvelope};

use super::Frame;

/// An event ready to be encoded: the envelope and its payload, an `Event`
/// known to carry a domain's event (`Event::kind` is `Some`).
#[derive(Debug, Clone, Copy)]
pub struct EncodedEvent<'a> {
    pub envelope: &'a EventEnvelope,
    pub payload: &'a Event,
}

/// Turns an event into the bytes one kind of client expects. Implemented by
/// the protocol layer (SignalR JSON, MessagePack, gRPC); the node only needs
/// to know that members with the same `key` can share the same bytes.
pub trait EventEncoder: Send + Sync + 'static {
    fn key(&self) -> &'static str;
    /// `None` when the event cannot be encoded (logged by the implementation).
    fn encode(&self, event: EncodedEvent<'_>) -> Option<Frame>;
}
