use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime},
};

use pulse_bus::{Bus, BusError, Deliveries, StartAt, Topic};
use pulse_proto::events::v1::{Event, EventEnvelope};
use pulse_telemetry::{ChildSpan, KeyValue, SpanKind};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{feed, metrics::Counters, EncodedEvent, Frame, Member, Occurred};

/// The members of one group on this gateway and the state of its feed.
#[derive(Debug)]
pub(super) struct Group {
    topic: Topic,
    members: Mutex<HashMap<Arc<str>, Member>>,
    /// Guards subscription set-up, so concurrent first joiners wait for one
    /// subscription instead of creating several.
    subscribed: tokio::sync::Mutex<bool>,
    cancel: CancellationToken,
    /// The node's: deliveries are added here.
    counters: Arc<Counters>,
}

impl Group {
    pub(super) fn new(topic: Topic, cancel: CancellationToken, counters: Arc<Counters>) -> Self {
        Self {
            topic,
            members: Mutex::default(),
            subscribed: tokio::sync::Mutex::new(false),
            cancel,
            counters,
        }
    }

    fn members(&self) -> MutexGuard<'_, HashMap<Arc<str>, Member>> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn insert(&self, member: Member) {
        member.outbound.meter(&self.counters);
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

    pub(super) fn len(&self) -> usize {
        self.members().len()
    }

    /// Members, and bytes waiting in the queues of those whose queue is not in `seen` yet (a
    /// connection in several groups has one queue).
    pub(super) fn tally(&self, seen: &mut HashSet<usize>) -> (usize, usize) {
        let members = self.members();
        let bytes = members
            .values()
            .filter(|member| seen.insert(member.outbound.queue_id()))
            .map(|member| member.outbound.queued_bytes())
            .sum();
        (members.len(), bytes)
    }

    pub(super) fn close(&self) {
        self.cancel.cancel();
    }

    pub(super) async fn ensure_subscribed(
        self: &Arc<Self>,
        bus: &Bus,
        resubscribe_delay: Duration,
    ) -> Result<(), BusError> {
        let mut subscribed = self.subscribed.lock().await;
        if !*subscribed {
            let deliveries = bus.subscribe(&self.topic, StartAt::New).await?;
            tokio::spawn(
                self.clone()
                    .pump(bus.clone(), deliveries, resubscribe_delay),
            );
            *subscribed = true;
        }
        Ok(())
    }

    /// Feeds deliveries to members until the group closes.
    async fn pump(self: Arc<Self>, bus: Bus, deliveries: Deliveries, resubscribe_delay: Duration) {
        let cancel = self.cancel.clone();
        feed::follow(
            bus,
            self.topic,
            deliveries,
            resubscribe_delay,
            cancel,
            |envelope, payload, traceparent| {
                self.dispatch(envelope, payload, traceparent);
            },
        )
        .await;
    }

    /// Queues the event to every member. A traced event (`traceparent`) is
    /// dispatched in one span for the whole group, with its member count: the
    /// per-member loop itself stays untouched. Its occurrence time is parsed
    /// once here and stamped on each encoding, for the writers to time the push.
    fn dispatch(&self, envelope: &EventEnvelope, payload: &Event, traceparent: Option<&str>) {
        let span = traceparent.and_then(|parent| {
            ChildSpan::start(
                "group dispatch",
                SpanKind::Consumer,
                parent,
                SystemTime::now(),
            )
        });
        let event = EncodedEvent { envelope, payload };
        let except = parse_user(envelope.except_user_id.as_deref());
        let revoked = parse_user(pulse_proto::revoked_member(payload));
        let occurred = Occurred::parse(&envelope.occurred_at);
        let mut frames: Vec<(&'static str, Option<Frame>)> = Vec::with_capacity(2);
        let mut members = self.members();
        let mut delivered = 0;
        for member in members.values() {
            if except == Some(member.user_id) {
                continue;
            }
            let key = member.key();
            let frame = match frames.iter().find(|(k, _)| *k == key) {
                Some((_, frame)) => frame.clone(),
                None => {
                    let frame = member
                        .encoder
                        .encode(event)
                        .map(|frame| frame.stamped(occurred));
                    frames.push((key, frame.clone()));
                    frame
                }
            };
            if let Some(frame) = frame {
                // An overflowing connection closes itself; others go on.
                if member.outbound.send(frame).is_ok() {
                    delivered += 1;
                }
            }
        }
        self.counters.delivered(delivered);
        if let Some(user) = revoked {
            members.retain(|_, member| member.user_id != user);
        }
        let count = members.len();
        drop(members);
        if let Some(mut span) = span {
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            span.set_attribute(KeyValue::new("pulse.group.members", count));
            let delivered = i64::try_from(delivered).unwrap_or(i64::MAX);
            span.set_attribute(KeyValue::new("pulse.group.delivered", delivered));
            span.end_at(SystemTime::now());
        }
    }
}

fn parse_user(id: Option<&str>) -> Option<Uuid> {
    id.and_then(|id| Uuid::parse_str(id).ok())
}
