//! Fan-out throughput of the node: one group with many members, events
//! published on the (in-memory) bus, time until every member has every frame.
//!
//! Baseline, measured in the same run: the same deliveries when each frame is
//! encoded per recipient (what a hub that serializes per connection does).
//! Prints deliveries per second for both and their ratio.
//!
//! `cargo bench -p pulse-gateway --bench fanout` (set FANOUT_MEMBERS / FANOUT_EVENTS to scale).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use prost::Message;
use pulse_bus::{Bus, Namespace};
use pulse_gateway::{
    node::{outbound, EncodedEvent, EventEncoder, Member, Node, OutboundReceiver},
    protocol::Protocol,
    SignalrEncoder,
};
use pulse_proto::lists::LIST;
use pulse_proto::{
    events::v1::{Event, EventEnvelope},
    lists::v1::{event::Kind, Item, ItemAdded, UserRef},
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn event(sequence: u64, list_id: Uuid) -> EventEnvelope {
    let user = UserRef {
        id: Uuid::new_v4().to_string(),
        display_name: "Benchmark User".into(),
    };
    EventEnvelope {
        group: LIST.topic(list_id).group(),
        sequence,
        occurred_at: "2026-11-23T12:00:00.000Z".into(),
        except_user_id: None,
        event: Some(Event::from(Kind::ItemAdded(ItemAdded {
            event_type: "ItemAdded".into(),
            list_id: list_id.to_string(),
            item: Some(Item {
                id: Uuid::new_v4().to_string(),
                list_id: list_id.to_string(),
                name: format!("Item {sequence}"),
                quantity: 2.0,
                unit: Some("pcs".into()),
                notes: Some("organic, if they have it".into()),
                position: i32::try_from(sequence).unwrap_or(0),
                created_by: Some(user),
                created_at: "2026-11-23T12:00:00.000Z".into(),
                ..Default::default()
            }),
            timestamp: "2026-11-23T12:00:00.000Z".into(),
        }))),
    }
}

/// Drains a member's queue like a writer task would; returns when `expected`
/// frames (and bytes) were taken.
fn drain(mut frames: OutboundReceiver, expected: usize) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut bytes = 0;
        for _ in 0..expected {
            match frames.recv().await {
                Some(frame) => bytes += frame.len(),
                None => break,
            }
        }
        bytes
    })
}

async fn node_fanout(members: usize, events: usize) -> Duration {
    let bus = Bus::memory(Namespace::new("bench").expect("namespace"));
    let node = Node::new(
        bus.clone(),
        CancellationToken::new(),
        Duration::from_millis(500),
    );
    let list_id = Uuid::new_v4();
    let topic = LIST.topic(list_id);
    let encoder: Arc<dyn EventEncoder> = Arc::new(SignalrEncoder::new(Protocol::Json));
    let mut drains = Vec::with_capacity(members);
    for _ in 0..members {
        let (tx, rx) = outbound(usize::MAX / 2);
        let member = Member::new(
            Arc::from(Uuid::new_v4().to_string()),
            Uuid::new_v4(),
            encoder.clone(),
            tx,
        );
        node.join(topic, member).await.expect("join");
        drains.push(drain(rx, events));
    }
    let payloads: Vec<Bytes> = (1..=events as u64)
        .map(|seq| Bytes::from(event(seq, list_id).encode_to_vec()))
        .collect();
    let start = Instant::now();
    for (i, payload) in payloads.into_iter().enumerate() {
        bus.publish(&topic, &i.to_string(), payload)
            .await
            .expect("publish");
    }
    for drain in drains {
        drain.await.expect("drain");
    }
    start.elapsed()
}

async fn per_recipient_baseline(members: usize, events: usize) -> Duration {
    let list_id = Uuid::new_v4();
    let encoder = SignalrEncoder::new(Protocol::Json);
    let mut senders = Vec::with_capacity(members);
    let mut drains = Vec::with_capacity(members);
    for _ in 0..members {
        let (tx, rx) = outbound(usize::MAX / 2);
        senders.push(tx);
        drains.push(drain(rx, events));
    }
    let envelopes: Vec<Bytes> = (1..=events as u64)
        .map(|seq| Bytes::from(event(seq, list_id).encode_to_vec()))
        .collect();
    let start = Instant::now();
    for payload in envelopes {
        let envelope = EventEnvelope::decode(payload.as_ref()).expect("decode");
        let payload = envelope.event.as_ref().expect("payload");
        for sender in &senders {
            let frame = encoder
                .encode(EncodedEvent {
                    envelope: &envelope,
                    payload,
                })
                .expect("encode");
            let _ = sender.send(frame);
        }
        tokio::task::yield_now().await;
    }
    for drain in drains {
        drain.await.expect("drain");
    }
    start.elapsed()
}

fn main() {
    let members = env("FANOUT_MEMBERS", 1_000);
    let events = env("FANOUT_EVENTS", 1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let deliveries = (members * events) as f64;
    let baseline = runtime.block_on(per_recipient_baseline(members, events));
    let node = runtime.block_on(node_fanout(members, events));
    let rate = |d: Duration| deliveries / d.as_secs_f64();
    println!("fan-out: {members} members x {events} events = {deliveries} deliveries");
    println!(
        "  per-recipient encoding (baseline): {:>10.0} deliveries/s ({:.2?})",
        rate(baseline),
        baseline
    );
    println!(
        "  node, encode once per event:       {:>10.0} deliveries/s ({:.2?})",
        rate(node),
        node
    );
    println!("  ratio node/baseline: {:.2}x", rate(node) / rate(baseline));
}
