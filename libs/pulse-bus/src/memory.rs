//! In-process bus with the same observable behaviour as the JetStream one:
//! per-topic ordered log, de-duplication by message id, subscriptions from
//! "new" or from a stream sequence.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard},
};

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::{
    requests::Responders, BusError, BusErrorKind, Deliveries, Delivery, GroupKind, Namespace,
    Outgoing, StartAt, Topic,
};

#[derive(Clone, Debug)]
pub struct MemoryBus {
    namespace: Namespace,
    state: Arc<Mutex<State>>,
    responders: Responders,
}

#[derive(Debug, Default)]
struct State {
    /// One sequence across all topics, like a stream's.
    last_sequence: u64,
    seen_ids: HashSet<String>,
    /// The id of each stream's last stored message, for [`crate::Outgoing::after`].
    last_ids: HashMap<GroupKind, String>,
    log: HashMap<Topic, Vec<Delivery>>,
    /// Unbounded on purpose: a test bus must never drop; the gateway bounds
    /// what it buffers above this layer.
    subscribers: HashMap<Topic, Vec<mpsc::UnboundedSender<Delivery>>>,
}

impl MemoryBus {
    pub(crate) fn new(namespace: Namespace) -> Self {
        Self {
            namespace,
            state: Arc::default(),
            responders: Responders::default(),
        }
    }

    pub(crate) fn responders(&self) -> &Responders {
        &self.responders
    }

    pub(crate) fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves only plain data behind.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn publish(
        &self,
        topic: &Topic,
        msg_id: &str,
        payload: Bytes,
    ) -> Result<(), BusError> {
        self.publish_after(Outgoing {
            topic: *topic,
            msg_id: msg_id.to_owned(),
            payload,
            after: None,
            traceparent: None,
        })
    }

    /// Checks in JetStream's order: a duplicate is acknowledged before `after` is looked at.
    pub(crate) fn publish_after(&self, message: Outgoing) -> Result<(), BusError> {
        let Outgoing {
            topic,
            msg_id,
            payload,
            after,
            traceparent,
        } = message;
        let (topic, msg_id, after) = (&topic, msg_id.as_str(), after.as_deref());
        let largest = crate::DEFAULT_MAX_MESSAGE_BYTES - crate::HEADER_ROOM;
        if payload.len() > largest {
            return Err(crate::too_large(payload.len(), largest));
        }
        let mut state = self.state();
        if state.seen_ids.contains(msg_id) {
            return Ok(());
        }
        if let Some(after) = after {
            if state.last_ids.get(&topic.kind()).map(String::as_str) != Some(after) {
                return Err(BusError::new(
                    BusErrorKind::OutOfTurn,
                    format!("{msg_id} must follow {after}"),
                ));
            }
        }
        state.seen_ids.insert(msg_id.to_owned());
        state.last_ids.insert(topic.kind(), msg_id.to_owned());
        state.last_sequence += 1;
        let delivery = Delivery {
            payload,
            stream_sequence: state.last_sequence,
            traceparent,
        };
        state.log.entry(*topic).or_default().push(delivery.clone());
        if let Some(senders) = state.subscribers.get_mut(topic) {
            senders.retain(|sender| sender.send(delivery.clone()).is_ok());
        }
        Ok(())
    }

    pub(crate) fn last_stream_sequence(&self, topic: &Topic) -> Option<u64> {
        self.state()
            .log
            .get(topic)
            .and_then(|log| log.last())
            .map(|delivery| delivery.stream_sequence)
    }

    pub(crate) fn subscribe(&self, topic: &Topic, start: StartAt) -> Deliveries {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut state = self.state();
        if let StartAt::StreamSequence(from) = start {
            for delivery in state.log.get(topic).into_iter().flatten() {
                if delivery.stream_sequence >= from {
                    // The receiver is alive: it is returned below.
                    let _ = sender.send(delivery.clone());
                }
            }
        }
        state.subscribers.entry(*topic).or_default().push(sender);
        UnboundedReceiverStream::new(receiver).map(Ok).boxed()
    }
}
