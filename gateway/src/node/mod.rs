//! The node: which local connections belong to which group, and the one bus
//! subscription per group that feeds them.
//!
//! A group is subscribed on the bus when its first local member joins and
//! unsubscribed when its last one leaves, so a gateway receives exactly the
//! events its clients follow. Each event is decoded once, de-duplicated by its
//! group sequence, encoded once per wire format present in the group, and the
//! same bytes are queued to every member.

mod encoder;
mod feed;
mod frame;
mod group;
mod history;
mod metrics;
mod outbound;
mod revocations;

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use pulse_bus::{Bus, Topic};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use encoder::{EncodedEvent, EventEncoder};
pub use frame::{Frame, Occurred};
pub use history::{read as read_history, History, HistoryCursor, HistoryError, ResetReason};
pub use metrics::NodeMetrics;
pub(crate) use metrics::{OpenCount, Opened};
pub use outbound::{outbound, Outbound, OutboundReceiver, Room};
pub use revocations::Revocations;

use group::Group;
use metrics::Counters;

#[cfg(test)]
mod tests;

/// A connection's membership in a group.
#[derive(Clone)]
pub struct Member {
    pub connection_id: Arc<str>,
    pub user_id: Uuid,
    pub encoder: Arc<dyn EventEncoder>,
    pub outbound: Outbound,
    /// The encoder's key, asked once here rather than once per event in the fan-out loop.
    key: &'static str,
}

impl Member {
    pub fn new(
        connection_id: Arc<str>,
        user_id: Uuid,
        encoder: Arc<dyn EventEncoder>,
        outbound: Outbound,
    ) -> Self {
        let key = encoder.key();
        Self {
            connection_id,
            user_id,
            encoder,
            outbound,
            key,
        }
    }

    /// Members with the same key share the bytes of an event (see [`EventEncoder::key`]).
    pub(crate) fn key(&self) -> &'static str {
        self.key
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("connection_id", &self.connection_id)
            .field("user_id", &self.user_id)
            .field("encoder", &self.key)
            .finish_non_exhaustive()
    }
}

/// The group could not be followed.
#[derive(Debug, thiserror::Error)]
#[error("cannot subscribe to {group}: {source}")]
pub struct JoinError {
    group: String,
    #[source]
    source: pulse_bus::BusError,
}

/// What a node holds, counted: both numbers fall back to zero once every client is gone, so
/// state a dropped connection leaves behind shows up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Groups with a bus subscription.
    pub groups: usize,
    /// Memberships, summed over groups (a connection in two groups counts twice).
    pub members: usize,
}

#[derive(Debug)]
pub struct Node {
    bus: Bus,
    groups: Mutex<HashMap<Topic, Arc<Group>>>,
    shutdown: CancellationToken,
    /// Wait before a group whose bus subscription ended subscribes again.
    resubscribe_delay: Duration,
    /// Deliveries and slow consumers, for the metrics endpoint (see [`Node::metrics`]).
    counters: Arc<Counters>,
}

impl Node {
    pub fn new(bus: Bus, shutdown: CancellationToken, resubscribe_delay: Duration) -> Self {
        Self {
            bus,
            groups: Mutex::default(),
            shutdown,
            resubscribe_delay,
            counters: Arc::default(),
        }
    }

    fn groups(&self) -> MutexGuard<'_, HashMap<Topic, Arc<Group>>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a member; returns once the group's bus subscription is live, so
    /// every event committed after this returns reaches the member.
    pub async fn join(&self, topic: Topic, member: Member) -> Result<(), JoinError> {
        let connection_id = member.connection_id.clone();
        let group = {
            let mut groups = self.groups();
            let group = groups
                .entry(topic)
                .or_insert_with(|| {
                    let cancel = self.shutdown.child_token();
                    Arc::new(Group::new(topic, cancel, self.counters.clone()))
                })
                .clone();
            group.insert(member);
            group
        };
        if let Err(source) = group
            .ensure_subscribed(&self.bus, self.resubscribe_delay)
            .await
        {
            self.leave(&topic, &connection_id);
            return Err(JoinError {
                group: topic.group(),
                source,
            });
        }
        Ok(())
    }

    /// Has this node count the queue's overflow as a slow-consumer close,
    /// whether or not the connection ever joins a group.
    pub fn meter(&self, queue: &Outbound) {
        queue.meter(&self.counters);
    }

    /// Removes a member; the last one out ends the group's subscription.
    pub fn leave(&self, topic: &Topic, connection_id: &str) {
        let mut groups = self.groups();
        if let Some(group) = groups.get(topic) {
            if group.remove(connection_id) {
                group.close();
                groups.remove(topic);
            }
        }
    }

    /// Whether a connection is (still) a member: false after it left or was
    /// removed because the event stream revoked its access.
    pub fn is_member(&self, topic: &Topic, connection_id: &str) -> bool {
        self.groups()
            .get(topic)
            .is_some_and(|group| group.contains(connection_id))
    }

    /// The group's retained events after `from` (see [`read_history`]), for callers that hold
    /// the node rather than the bus (hub methods).
    pub async fn history(
        &self,
        topic: &Topic,
        from: HistoryCursor,
        limit: NonZeroUsize,
    ) -> Result<History, HistoryError> {
        history::read(&self.bus, topic, from, limit).await
    }

    /// The groups and members held now (tests and diagnostics).
    pub fn stats(&self) -> NodeStats {
        let groups = self.groups();
        NodeStats {
            groups: groups.len(),
            members: groups.values().map(|group| group.len()).sum(),
        }
    }
}
