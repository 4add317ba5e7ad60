//! Catching a stream up from its group's retained history.

use std::num::NonZeroUsize;

use pulse_bus::{Bus, Topic};
use pulse_proto::gateway::v1::{subscription_message::Kind, Reset};

use super::service::Sink;
use crate::node::{read_history, HistoryCursor, HistoryError, ResetReason};

/// Events read from the bus at a time: what one replay holds in memory, whatever the length of
/// the history (the sink takes them a few at a time).
const PAGE: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");

/// Why a replay stopped early.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReplayError {
    #[error("history: {0}")]
    History(#[from] HistoryError),
    #[error("client gone")]
    ClientGone,
}

/// Sends every retained event of `topic` with a sequence after `after`, preceded by a `Reset`
/// when the stream cannot continue from that position. Returns the last sequence sent, or
/// `after`, or after a reset with nothing to send the group's real position: live events above
/// it are new to the client.
pub(super) async fn replay(
    bus: &Bus,
    topic: &Topic,
    after: u64,
    sink: &Sink,
) -> Result<u64, ReplayError> {
    let mut from = HistoryCursor::after(after);
    loop {
        let page = read_history(bus, topic, from, PAGE).await?;
        if let Some(reason) = page.reset {
            // The stream goes on right before the first retained event, or, with none to send,
            // where the group stands (never the requested position: live events would drop).
            let continues = page
                .events
                .first()
                .map_or(page.sequence, |first| first.sequence.saturating_sub(1));
            sink.send(reset(topic, from.sequence(), continues, reason))
                .await?;
        }
        for envelope in page.events {
            sink.send_event(envelope).await?;
        }
        match page.next {
            Some(next) => from = next,
            None => return Ok(page.sequence),
        }
    }
}

fn reset(topic: &Topic, after: u64, continues: u64, reason: ResetReason) -> Kind {
    Kind::Reset(Reset {
        group: topic.group(),
        requested_after: after,
        reason: reason.text().into(),
        sequence: continues,
    })
}
