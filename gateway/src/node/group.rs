use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use futures::StreamExt;
use prost::Message;
use pulse_bus::{Bus, BusError, Deliveries, Delivery, StartAt, Topic};
use pulse_proto::events::v1::EventEnvelope;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{EncodedEvent, Frame, Member};

/// The members of one group on this gateway and the state of its feed.
#[derive(Debug)]
pub(super) struct Group {
    topic: Topic,
    members: Mutex<HashMap<Arc<str>, Member>>,
    /// Guards subscription set-up, so concurrent first joiners wait for one
    /// subscription instead of creating several.
    subscribed: tokio::sync::Mutex<bool>,
    cancel: CancellationToken,
}

/// Wait before resubscribing after the bus ended a subscription.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);

impl Group {
    pub(super) fn new(topic: Topic, cancel: CancellationToken) -> Self {
        Self {
            topic,
            members: Mutex::default(),
            subscribed: tokio::sync::Mutex::new(false),
            cancel,
        }
    }

    fn members(&self) -> MutexGuard<'_, HashMap<Arc<str>, Member>> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn insert(&self, member: Member) {
        self.members().insert(member.connection_id.clone(), member);
    }

    /// Removes a member; true when the group is now empty.
    pub(super) fn remove(&self, connection_id: &str) -> bool {
        let mut members = self.members();
        members.remove(connection_id);
        members.is_empty()
    }

    pub(super) fn contains(&self, connection_id: &str) -> bool {
        self.members().contains_key(connection_id)
    }

    pub(super) fn close(&self) {
        self.cancel.cancel();
    }

    pub(super) async fn ensure_subscribed(self: &Arc<Self>, bus: &Bus) -> Result<(), BusError> {
        let mut subscribed = self.subscribed.lock().await;
        if !*subscribed {
            let deliveries = bus.subscribe(&self.topic, StartAt::New).await?;
            tokio::spawn(self.clone().pump(bus.clone(), deliveries));
            *subscribed = true;
        }
        Ok(())
    }

    /// Feeds deliveries to members until the group closes. If the bus ends the
    /// subscription, it resumes right after the last stream position seen.
    async fn pump(self: Arc<Self>, bus: Bus, mut deliveries: Deliveries) {
        let mut feed = Feed::default();
        loop {
            let next = tokio::select! {
                () = self.cancel.cancelled() => return,
                next = deliveries.next() => next,
            };
            match next {
                Some(Ok(delivery)) => {
                    feed.last_stream_sequence = delivery.stream_sequence;
                    self.dispatch(&mut feed, &delivery);
                    continue;
                }
                Some(Err(error)) => {
                    tracing::warn!(group = %self.topic, %error, "bus subscription failed")
                }
                None => tracing::warn!(group = %self.topic, "bus subscription ended"),
            }
            deliveries = loop {
                tokio::select! {
                    () = self.cancel.cancelled() => return,
                    () = tokio::time::sleep(RESUBSCRIBE_DELAY) => {}
                }
                let start = StartAt::StreamSequence(feed.last_stream_sequence + 1);
                match bus.subscribe(&self.topic, start).await {
                    Ok(deliveries) => break deliveries,
                    Err(error) => tracing::warn!(group = %self.topic, %error, "resubscribe failed"),
                }
            };
        }
    }

    fn dispatch(&self, feed: &mut Feed, delivery: &Delivery) {
        let envelope = match EventEnvelope::decode(delivery.payload.as_ref()) {
            Ok(envelope) => envelope,
            Err(error) => {
                tracing::error!(group = %self.topic, %error, "undecodable event dropped");
                return;
            }
        };
        if envelope.sequence <= feed.last_group_sequence {
            tracing::debug!(group = %self.topic, sequence = envelope.sequence, "duplicate event dropped");
            return;
        }
        feed.last_group_sequence = envelope.sequence;
        let Some(kind) = envelope.event.as_ref().and_then(|e| e.kind.as_ref()) else {
            tracing::error!(group = %self.topic, "event without payload dropped");
            return;
        };
        let event = EncodedEvent {
            envelope: &envelope,
            kind,
        };
        let except = parse_user(envelope.except_user_id.as_deref());
        let revoked = parse_user(pulse_proto::revoked_member(kind));
        let mut frames: Vec<(&'static str, Option<Frame>)> = Vec::with_capacity(2);
        let mut members = self.members();
        for member in members.values() {
            if except == Some(member.user_id) {
                continue;
            }
            let key = member.encoder.key();
            let frame = match frames.iter().find(|(k, _)| *k == key) {
                Some((_, frame)) => frame.clone(),
                None => {
                    let frame = member.encoder.encode(event);
                    frames.push((key, frame.clone()));
                    frame
                }
            };
            if let Some(frame) = frame {
                // An overflowing connection closes itself; others go on.
                let _ = member.outbound.send(frame);
            }
        }
        if let Some(user) = revoked {
            members.retain(|_, member| member.user_id != user);
        }
    }
}

fn parse_user(id: Option<&str>) -> Option<Uuid> {
    id.and_then(|id| Uuid::parse_str(id).ok())
}

/// Position of a group's feed.
#[derive(Debug, Default)]
struct Feed {
    last_stream_sequence: u64,
    last_group_sequence: u64,
}
