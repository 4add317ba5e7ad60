//! What the node counts for operators; the transport renders it at `GET /metrics`.
//!
//! Nothing here takes a lock per frame: the fan-out adds its deliveries to one relaxed atomic
//! once per event, a writer times a push with a few relaxed atomics once per write that carried
//! events, an overflowing queue bumps a counter once in its life, and the bytes waiting in
//! queues are summed from the per-queue counters the budget already keeps, at scrape time.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
};

use pulse_telemetry::prometheus::{header, AtomicHistogram};

use super::{Node, Occurred};

/// Monotonic counts kept by the fan-out and the outbound queues of one node.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Frames queued to members by the fan-out.
    events_delivered: AtomicU64,
    /// Queues that overflowed; each one's owner closes its connection or stream.
    slow_consumer_closes: AtomicU64,
    /// From an event's occurrence to its frame written to a client, once per write that
    /// carried events (for the oldest of them).
    push_latency: AtomicHistogram,
}

impl Counters {
    /// `frames` were queued for one event (added once per event, not per member).
    pub(super) fn delivered(&self, frames: u64) {
        if frames > 0 {
            self.events_delivered.fetch_add(frames, Ordering::Relaxed);
        }
    }

    /// A write to one client carrying events, the oldest of which occurred at `occurred`, has
    /// just been flushed.
    pub(super) fn written(&self, occurred: Occurred) {
        self.push_latency.observe_micros(occurred.micros_ago());
    }

    /// Writes timed so far.
    #[cfg(test)]
    pub(super) fn pushes_timed(&self) -> u64 {
        self.push_latency.count()
    }

    /// A queue overflowed for the first time.
    pub(super) fn slow_consumer(&self) {
        self.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
    }
}

/// A reading of what the node holds and has counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeMetrics {
    /// Groups with a bus subscription.
    pub groups: usize,
    /// Memberships, summed over groups (a connection in two groups counts twice).
    pub members: usize,
    /// Bytes waiting in the outbound queues of members (each queue once, however many groups
    /// it is in). Queues of connections in no group are not seen.
    pub queued_bytes: usize,
    /// Frames the fan-out queued to members, since the node started.
    pub events_delivered: u64,
    /// Queues of members that overflowed (their connection or stream was closed), since the
    /// node started.
    pub slow_consumer_closes: u64,
}

impl Node {
    /// Reads the node's gauges and counters. Holds the group table's lock only to copy it, then
    /// each group's lock in turn, as a fan-out does.
    pub fn metrics(&self) -> NodeMetrics {
        let groups: Vec<_> = self.groups().values().cloned().collect();
        let mut queues = HashSet::new();
        let mut reading = NodeMetrics {
            groups: groups.len(),
            events_delivered: self.counters.events_delivered.load(Ordering::Relaxed),
            slow_consumer_closes: self.counters.slow_consumer_closes.load(Ordering::Relaxed),
            ..NodeMetrics::default()
        };
        for group in groups {
            let (members, queued_bytes) = group.tally(&mut queues);
            reading.members += members;
            reading.queued_bytes += queued_bytes;
        }
        reading
    }

    /// `pulse_gateway_push_latency_seconds`, the histogram of `Counters::written`.
    pub fn render_push_latency(&self, out: &mut String) {
        header(
            out,
            "pulse_gateway_push_latency_seconds",
            "histogram",
            "From an event's occurrence in its command's transaction to its frame written to a client (a WebSocket flush, a Server-Sent Events chunk or a long-poll response), once per write that carried events, for the oldest event in it.",
        );
        self.counters
            .push_latency
            .snapshot()
            .render(out, "pulse_gateway_push_latency_seconds", "");
    }
}

/// How many of something are open (gRPC streams): each holder of an [`Opened`] counts once
/// until it is dropped, so a task that ends any way at all stops being counted.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenCount(Arc<AtomicUsize>);

impl OpenCount {
    pub(crate) fn open(&self) -> Opened {
        self.0.fetch_add(1, Ordering::Relaxed);
        Opened(self.0.clone())
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// One open thing of an [`OpenCount`].
#[derive(Debug)]
pub(crate) struct Opened(Arc<AtomicUsize>);

impl Drop for Opened {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use pulse_proto::lists::LIST;
    use std::{sync::Arc, time::Duration};

    use bytes::Bytes;
    use prost::Message;
    use pulse_bus::{Bus, Namespace, Topic};
    use pulse_proto::{
        events::v1::{Event, EventEnvelope},
        lists::v1::{event::Kind, ItemDeleted},
    };
    use tokio_util::sync::CancellationToken;
    use uuid::Uuid;

    use super::*;
    use crate::node::{outbound, EncodedEvent, EventEncoder, Frame, Member, OutboundReceiver};

    /// Encodes every event as the same 10 bytes.
    struct TenBytes;

    impl EventEncoder for TenBytes {
        fn key(&self) -> &'static str {
            "ten"
        }

        fn encode(&self, _: EncodedEvent<'_>) -> Option<Frame> {
            Some(Frame::text(Bytes::from_static(b"0123456789")))
        }
    }

    async fn join(node: &Node, topic: Topic, limit: usize) -> (Member, OutboundReceiver) {
        let (outbound, frames) = outbound(limit);
        let member = Member::new(
            Arc::from(Uuid::new_v4().to_string()),
            Uuid::new_v4(),
            Arc::new(TenBytes),
            outbound,
        );
        node.join(topic, member.clone()).await.expect("join");
        (member, frames)
    }

    async fn publish(bus: &Bus, topic: Topic, sequence: u64) {
        let envelope = EventEnvelope {
            group: topic.group(),
            sequence,
            occurred_at: String::new(),
            except_user_id: None,
            event: Some(Event::from(Kind::ItemDeleted(ItemDeleted::default()))),
        };
        bus.publish(
            &topic,
            &Uuid::new_v4().to_string(),
            Bytes::from(envelope.encode_to_vec()),
        )
        .await
        .expect("publish");
    }

    /// Polls until `holds`: the fan-out runs on the group's own task.
    async fn until(node: &Node, holds: impl Fn(&NodeMetrics) -> bool) -> NodeMetrics {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let reading = node.metrics();
                if holds(&reading) {
                    return reading;
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("reached within 5 s, last {:?}", node.metrics()))
    }

    #[tokio::test]
    async fn deliveries_queued_bytes_and_overflows_are_counted() {
        let bus = Bus::memory(Namespace::new("metrics").expect("namespace"));
        let node = Node::new(
            bus.clone(),
            CancellationToken::new(),
            Duration::from_millis(500),
        );
        let (list, other) = (LIST.topic(Uuid::new_v4()), LIST.topic(Uuid::new_v4()));
        let (reader, mut reader_frames) = join(&node, list, 1 << 20).await;
        // In two groups, its one queue is summed once.
        node.join(other, reader.clone()).await.expect("join");
        // Room for two frames: the third overflows it.
        let (_slow, _slow_frames) = join(&node, list, 20).await;
        assert_eq!(
            node.metrics(),
            NodeMetrics {
                groups: 2,
                members: 3,
                ..NodeMetrics::default()
            }
        );

        for sequence in 1..=3 {
            publish(&bus, list, sequence).await;
        }
        let reading = until(&node, |m| m.events_delivered == 5).await;
        assert_eq!(reading.slow_consumer_closes, 1);
        assert_eq!(reading.queued_bytes, 50);

        // Another overflow of the same queue is not another close.
        publish(&bus, list, 4).await;
        let reading = until(&node, |m| m.events_delivered == 6).await;
        assert_eq!(reading.slow_consumer_closes, 1);
        for _ in 0..4 {
            reader_frames.recv().await.expect("a frame");
        }
        assert_eq!(node.metrics().queued_bytes, 20);
    }

    #[test]
    fn an_open_count_falls_back_when_its_holders_drop() {
        let count = OpenCount::default();
        let (first, second) = (count.open(), count.open());
        assert_eq!(count.get(), 2);
        drop(first);
        assert_eq!(count.get(), 1);
        drop(second);
        assert_eq!(count.get(), 0);
    }
}
