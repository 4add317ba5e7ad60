//! The baseline: the same messages published straight to JetStream and read
//! by one subscriber per list, with no database and no gateway.

use std::sync::Arc;

use futures::StreamExt;
use prost::Message as _;
use pulse_bus::{Bus, Namespace, StartAt, Topic};
use pulse_proto::lists::LIST;
use pulse_proto::{
    events::v1::{Event, EventEnvelope},
    lists::v1::{event::Kind, Item, ItemAdded},
};
use tokio::{task::JoinHandle, time::Instant as Deadline};
use uuid::Uuid;

use crate::harness::{
    check_exactly_once, collect, command_index, delete_streams, drive, Arrivals, Clock, Figures,
    Plan, Sizes,
};

fn bus_payload(topic: &Topic, index: usize, sent: u64) -> bytes::Bytes {
    let envelope = EventEnvelope {
        group: topic.group(),
        sequence: index as u64 + 1,
        occurred_at: "2026-11-23T12:00:00.000Z".into(),
        except_user_id: None,
        event: Some(Event::from(Kind::ItemAdded(ItemAdded {
            event_type: "ItemAdded".into(),
            list_id: topic.id().map(|id| id.to_string()).unwrap_or_default(),
            item: Some(Item {
                id: Uuid::new_v4().to_string(),
                name: format!("cmd-{index}"),
                quantity: 1.0,
                notes: Some(sent.to_string()),
                created_at: "2026-11-23T12:00:00.000Z".into(),
                ..Default::default()
            }),
            timestamp: "2026-11-23T12:00:00.000Z".into(),
        }))),
    };
    envelope.encode_to_vec().into()
}

/// One subscriber per list reading its planned messages (the group's events
/// up to `after` skipped), checking each arrives once and in stream order.
pub(crate) async fn bus_subscriber(
    bus: &Bus,
    topic: Topic,
    after: u64,
    expected: Vec<usize>,
    clock: Clock,
    give_up: Deadline,
) -> Result<JoinHandle<Result<Arrivals, String>>, String> {
    let mut deliveries = bus
        .subscribe(&topic, StartAt::New)
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    Ok(tokio::spawn(async move {
        let (mut received, mut latencies) = (Vec::new(), Vec::new());
        let (mut last_arrival, mut stream_sequence) = (0, 0);
        while received.len() < expected.len() {
            let delivery = tokio::time::timeout_at(give_up, deliveries.next())
                .await
                .map_err(|_| {
                    format!(
                        "{topic}: gave up with {}/{}",
                        received.len(),
                        expected.len()
                    )
                })?
                .ok_or_else(|| format!("{topic}: subscription ended"))?
                .map_err(|e| format!("{topic}: {e}"))?;
            last_arrival = clock.now();
            if delivery.stream_sequence <= stream_sequence {
                return Err(format!("{topic}: stream sequence went back"));
            }
            stream_sequence = delivery.stream_sequence;
            let envelope = EventEnvelope::decode(delivery.payload)
                .map_err(|e| format!("{topic}: not an envelope: {e}"))?;
            if envelope.sequence <= after {
                continue;
            }
            let item = match envelope.event.map(Kind::try_from) {
                Some(Ok(Kind::ItemAdded(added))) => added.item,
                _ => None,
            }
            .ok_or_else(|| format!("{topic}: not an ItemAdded"))?;
            let index = command_index(&item.name).ok_or("unstamped item name")?;
            let sent: u64 = item
                .notes
                .and_then(|n| n.parse().ok())
                .ok_or("no send time")?;
            received.push(index);
            latencies.push(last_arrival.saturating_sub(sent));
        }
        check_exactly_once(&topic.to_string(), received, &expected)?;
        Ok(Arrivals {
            latencies,
            last_arrival,
        })
    }))
}

pub(crate) async fn bus_only(
    sizes: &Sizes,
    writers: usize,
    plan: &Plan,
    clock: Clock,
    give_up: Deadline,
) -> Result<Figures, String> {
    let namespace =
        Namespace::new(&pulse_testkit::unique_namespace()).map_err(|e| e.to_string())?;
    let bus = Bus::connect(&pulse_testkit::shared_nats_url(), namespace.clone())
        .await
        .map_err(|e| format!("nats: {e}"))?;
    let result = async {
        bus.ensure_stream(LIST.kind(), pulse_testkit::EVENT_RETENTION)
            .await
            .map_err(|e| format!("stream: {e}"))?;
        let topics: Vec<Topic> = (0..sizes.lists)
            .map(|_| LIST.topic(Uuid::new_v4()))
            .collect();
        let mut subscribers = Vec::with_capacity(sizes.lists);
        for (topic, expected) in topics.iter().zip(&plan.per_list) {
            subscribers
                .push(bus_subscriber(&bus, *topic, 0, expected.clone(), clock, give_up).await?);
        }
        let topics = Arc::new(topics);
        let (first_send, last_ack, acks) = drive(
            plan,
            vec![bus.clone(); writers],
            clock,
            move |bus: Bus, index, (list, _), sent| {
                let topic = topics[list];
                async move {
                    bus.publish(
                        &topic,
                        &format!("bench:{index}"),
                        bus_payload(&topic, index, sent),
                    )
                    .await
                    .map_err(|e| format!("publish: {e}"))
                }
            },
        )
        .await?;
        let mut outcomes = Vec::with_capacity(subscribers.len());
        for subscriber in subscribers {
            outcomes.push(subscriber.await.map_err(|e| format!("subscriber: {e}"))?);
        }
        collect(first_send, last_ack, acks, outcomes)
    }
    .await;
    delete_streams(&namespace).await;
    result
}
