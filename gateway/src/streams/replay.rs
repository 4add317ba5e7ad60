//! Catching a group up from its retained history.

use std::time::Duration;

use futures::StreamExt;
use prost::Message;
use pulse_bus::{Bus, BusError, StartAt, Topic};
use pulse_proto::{
    events::v1::EventEnvelope,
    gateway::v1::{subscription_message::Kind, Reset},
};

use super::service::Sink;

/// How long one retained message may take to arrive before the replay is
/// abandoned (the broker is unwell; the client retries).
const REPLAY_STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a replay stopped early.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReplayError {
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    #[error("client gone")]
    ClientGone,
}

/// Sends every retained event of `topic` with a sequence after `after`, up to
/// the newest one stored when the replay starts, preceded by a `Reset` when
/// events in between are no longer retained. Returns the last sequence sent
/// (or `after`).
pub(super) async fn replay(
    bus: &Bus,
    topic: &Topic,
    after: u64,
    sink: &Sink,
) -> Result<u64, ReplayError> {
    let Some(last) = bus.last_stream_sequence(topic).await? else {
        // Nothing retained: a client that saw events cannot be caught up.
        if after > 0 {
            sink.send(reset(topic, after, "no event of this group is retained"))
                .await?;
        }
        return Ok(after);
    };
    let mut deliveries = bus.subscribe(topic, StartAt::StreamSequence(1)).await?;
    let mut sent = after;
    let mut newest = 0;
    let mut first = true;
    loop {
        let delivery = tokio::time::timeout(REPLAY_STEP_TIMEOUT, deliveries.next())
            .await
            .map_err(|_| BusError::Subscribe("replay timed out".into()))?
            .ok_or_else(|| BusError::Subscribe("replay ended early".into()))??;
        if let Ok(envelope) = EventEnvelope::decode(delivery.payload.as_ref()) {
            if first && envelope.sequence > after + 1 {
                sink.send(reset(
                    topic,
                    after,
                    "events after this position are no longer retained",
                ))
                .await?;
            }
            first = false;
            newest = newest.max(envelope.sequence);
            if envelope.sequence > sent {
                sent = envelope.sequence;
                sink.send_event(envelope).await?;
            }
        }
        if delivery.stream_sequence >= last {
            break;
        }
    }
    if newest < after {
        sink.send(reset(
            topic,
            after,
            "this position is ahead of the retained events",
        ))
        .await?;
    }
    Ok(sent)
}

fn reset(topic: &Topic, after: u64, reason: &str) -> Kind {
    Kind::Reset(Reset {
        group: topic.group(),
        requested_after: after,
        reason: reason.into(),
    })
}
