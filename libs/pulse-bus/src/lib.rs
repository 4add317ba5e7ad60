//! The event bus between the services and the gateways.
//!
//! Services publish each committed event exactly once per outbox row (with a
//! de-duplication id, waiting for the broker's acknowledgement); gateways hold
//! one subscription per group that has local members. Production uses NATS
//! JetStream; [`Bus::memory`] is an in-process implementation that passes the
//! same contract tests, for unit tests of the layers above.

mod error;
mod memory;
mod nats;
mod replicas;
mod requests;
mod topic;

use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;

pub use error::{BusError, BusErrorKind};
pub use pulse_groups::{GroupKind, PerEntityKind, SingletonKind, Topic};
pub use replicas::StreamReplicas;
pub use requests::{Incoming, Requests, ServiceName};
pub use topic::Namespace;

/// Bytes kept free for a message's headers (its id and its predecessor's, each well under
/// 200 bytes, and a 55-byte `traceparent`) when its payload is held against the broker's
/// largest message.
const HEADER_ROOM: usize = 1024;

/// The largest message a NATS server takes unless configured otherwise (`max_payload`); the
/// in-memory bus holds payloads to it as well.
const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

fn too_large(size: usize, largest: usize) -> BusError {
    BusError::new(
        BusErrorKind::TooLarge,
        format!("{size} bytes, the broker takes at most {largest}"),
    )
}

/// One message read from a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub payload: Bytes,
    /// Position in the broker's stream (not the group's event sequence).
    pub stream_sequence: u64,
    /// The W3C trace context the message was published in, if it was traced.
    pub traceparent: Option<String>,
}

/// One message for [`Bus::publish_all`].
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub topic: Topic,
    /// De-duplication id: a second message with it is not stored again.
    pub msg_id: String,
    pub payload: Bytes,
    /// Stored only directly after the message with this id, as the next message of the
    /// topic's stream; otherwise refused with [`BusErrorKind::OutOfTurn`]. A publisher sends
    /// several messages of one topic at once with each naming the one before it: a later one
    /// can then never be stored without every earlier one (JetStream's
    /// `Nats-Expected-Last-Msg-Id`).
    pub after: Option<String>,
    /// The W3C trace context of the publish (the `traceparent` header), so a
    /// subscriber's work continues the trace of the command that caused it.
    pub traceparent: Option<String>,
}

/// Where a new subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// Only messages published after the subscription exists.
    New,
    /// Every retained message with a stream sequence of at least this.
    StreamSequence(u64),
}

pub type Deliveries = BoxStream<'static, Result<Delivery, BusError>>;

/// A connected bus. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Bus {
    Nats(Box<nats::NatsBus>),
    Memory(memory::MemoryBus),
}

impl Bus {
    /// Connects to NATS and checks that JetStream answers.
    pub async fn connect(url: &str, namespace: Namespace) -> Result<Self, BusError> {
        Ok(Bus::Nats(Box::new(
            nats::NatsBus::connect(url, namespace).await?,
        )))
    }

    /// The bus creating its streams with this many copies each (1 unless
    /// set). The memory bus keeps one copy whatever it is told.
    pub fn with_stream_replicas(mut self, replicas: StreamReplicas) -> Self {
        if let Bus::Nats(bus) = &mut self {
            bus.set_stream_replicas(replicas);
        }
        self
    }

    pub fn memory(namespace: Namespace) -> Self {
        Bus::Memory(memory::MemoryBus::new(namespace))
    }

    pub fn namespace(&self) -> &Namespace {
        match self {
            Bus::Nats(bus) => bus.namespace(),
            Bus::Memory(bus) => bus.namespace(),
        }
    }

    /// Creates the stream holding a kind of topic if it does not exist, with
    /// explicit retention, a de-duplication window and the bus's replica
    /// count. A stream that exists is taken as it is (change a live stream's
    /// replicas with `nats stream edit`); a count the cluster cannot place
    /// (yet) is refused with [`BusErrorKind::Stream`].
    pub async fn ensure_stream(
        &self,
        kind: GroupKind,
        retention: Duration,
    ) -> Result<(), BusError> {
        match self {
            Bus::Nats(bus) => bus.ensure_stream(kind, retention).await,
            Bus::Memory(_) => Ok(()),
        }
    }

    /// Publishes and waits until the broker has stored the message. A second
    /// publish with the same `msg_id` (within the de-duplication window) is
    /// acknowledged without storing a copy.
    pub async fn publish(
        &self,
        topic: &Topic,
        msg_id: &str,
        payload: Bytes,
    ) -> Result<(), BusError> {
        match self {
            Bus::Nats(bus) => bus.publish(topic, msg_id, payload).await,
            Bus::Memory(bus) => bus.publish(topic, msg_id, payload),
        }
    }

    /// Publishes several messages at once and waits until the broker has
    /// acknowledged each: one round trip for all of them instead of one each.
    /// The results are in the order given. The broker stores them in that
    /// order, but a failed one does not stop the ones after it: a message
    /// whose order matters names its predecessor in [`Outgoing::after`].
    pub async fn publish_all(&self, messages: Vec<Outgoing>) -> Vec<Result<(), BusError>> {
        match self {
            Bus::Nats(bus) => bus.publish_all(messages).await,
            Bus::Memory(bus) => messages.into_iter().map(|m| bus.publish_after(m)).collect(),
        }
    }

    /// The stream sequence of the topic's newest retained message, `None` when
    /// nothing of it is retained. A replay that reaches this position has
    /// caught up with everything stored when it was asked.
    pub async fn last_stream_sequence(&self, topic: &Topic) -> Result<Option<u64>, BusError> {
        match self {
            Bus::Nats(bus) => bus.last_stream_sequence(topic).await,
            Bus::Memory(bus) => Ok(bus.last_stream_sequence(topic)),
        }
    }

    /// Every message of one topic, in order, from `start`. The returned stream
    /// survives broker reconnects without gaps; dropping it ends the
    /// subscription.
    pub async fn subscribe(&self, topic: &Topic, start: StartAt) -> Result<Deliveries, BusError> {
        match self {
            Bus::Nats(bus) => bus.subscribe(topic, start).await,
            Bus::Memory(bus) => Ok(bus.subscribe(topic, start)),
        }
    }
}
