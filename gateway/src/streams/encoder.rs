use bytes::Bytes;
use prost::Message;

use crate::node::{EncodedEvent, EventEncoder, Frame};

/// Queues the envelope itself (protobuf): a stream turns it into its typed
/// message when it is sent.
#[derive(Debug, Clone, Copy)]
pub(super) struct EnvelopeEncoder;

impl EventEncoder for EnvelopeEncoder {
    fn key(&self) -> &'static str {
        "envelope"
    }

    fn encode(&self, event: EncodedEvent<'_>) -> Option<Frame> {
        Some(Frame::binary(Bytes::from(event.envelope.encode_to_vec())))
    }
}
