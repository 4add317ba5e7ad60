//! A group's retained history: the events a client missed while it was away.
//!
//! Clients know only group sequences, and the broker indexes its stream by its own positions, so
//! a read scans the group's retained events from the oldest and keeps those after the requested
//! sequence. It stops at the newest event retained when it started: later ones reach the reader
//! live (it has joined the group first), and the group sequence drops the overlap. Reads are
//! paged so no reader holds a long history at once; a page's [`HistoryCursor`] lets the next read
//! start where the page ended instead of scanning again from the oldest.
//!
//! The requested position is the client's number, any `u64`: a position ahead of the newest
//! retained event is found by reading that one event first, so it costs no scan and no arithmetic
//! on the client's number can overflow.

use std::{num::NonZeroUsize, time::Duration};

use futures::StreamExt;
use prost::Message;
use pulse_bus::{Bus, BusError, Deliveries, Delivery, StartAt, Topic};
use pulse_proto::events::v1::EventEnvelope;

/// How long one retained message may take to arrive before the read is abandoned (the broker
/// is unwell; the client retries).
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a read starts: after a group sequence, and from which broker position to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCursor {
    after: u64,
    /// The broker position of the first event the read may return; 1 (the oldest) when only the
    /// group sequence is known.
    from_stream_sequence: u64,
}

impl HistoryCursor {
    /// After the group sequence `after`, as a client names its position.
    pub fn after(after: u64) -> Self {
        Self {
            after,
            from_stream_sequence: 1,
        }
    }

    /// The group sequence the read continues after.
    pub fn sequence(&self) -> u64 {
        self.after
    }
}

/// Why a reader cannot continue from its position and must start again from a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetReason {
    /// Nothing of the group is retained any more (it was quiet for longer than retention).
    NothingRetained,
    /// The oldest retained event is not the next one the reader needs.
    Expired,
    /// The position is ahead of every retained event (a stream purged or recreated since).
    Ahead,
}

impl ResetReason {
    /// The explanation given to clients.
    pub fn text(self) -> &'static str {
        match self {
            ResetReason::NothingRetained => "no event of this group is retained",
            ResetReason::Expired => "events after this position are no longer retained",
            ResetReason::Ahead => "this position is ahead of the retained events",
        }
    }
}

/// One page of a group's history.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Events after the cursor, oldest first, each group sequence once, at most the page limit.
    pub events: Vec<EventEnvelope>,
    /// Set when the page does not continue the requested position: events in between are lost
    /// to the reader, which reports it before using the page.
    pub reset: Option<ResetReason>,
    /// The group sequence the reader has reached: the last event's, or the requested one. After
    /// a reset, never beyond the group's real position ([`History::newest`] when nothing was
    /// read), so later events of the group count as new to the reader.
    pub sequence: u64,
    /// The newest group sequence retained when the read started (0 when nothing is): where a
    /// reader that must reset stands.
    pub newest: u64,
    /// Where the next page starts; `None` once the newest retained event was read.
    pub next: Option<HistoryCursor>,
}

impl History {
    fn empty(from: HistoryCursor) -> Self {
        Self {
            events: Vec::new(),
            reset: None,
            sequence: from.after,
            newest: 0,
            next: None,
        }
    }

    /// A page that cannot continue the requested position and holds no event: the reader stands
    /// at the group's newest position.
    fn reset(mut self, reason: ResetReason, newest: u64) -> Self {
        self.reset = Some(reason);
        self.sequence = newest;
        self.newest = newest;
        self
    }
}

/// Why a history read failed; retrying may succeed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    /// A retained event did not arrive in time, or the subscription ended before the newest.
    #[error("the history read stalled")]
    Stalled,
}

/// Reads up to `limit` events of `topic` after `from`, up to the newest retained when the read
/// starts.
pub async fn read(
    bus: &Bus,
    topic: &Topic,
    from: HistoryCursor,
    limit: NonZeroUsize,
) -> Result<History, HistoryError> {
    let history = History::empty(from);
    let Some(last) = bus.last_stream_sequence(topic).await? else {
        // A reader that saw events cannot be caught up.
        if from.after > 0 {
            return Ok(history.reset(ResetReason::NothingRetained, 0));
        }
        return Ok(history);
    };
    if from.from_stream_sequence > last {
        return Ok(history);
    }
    let newest = match retained_at(bus, topic, last).await? {
        Some(newest) if newest < from.after => {
            return Ok(history.reset(ResetReason::Ahead, newest));
        }
        Some(newest) => newest,
        None => 0,
    };
    scan(bus, topic, from, last, limit, History { newest, ..history }).await
}

/// The group sequence of the event at broker position `at`; `None` when that is a presence
/// notice (it has no number: the scan finds the newest numbered event) or cannot be decoded.
async fn retained_at(bus: &Bus, topic: &Topic, at: u64) -> Result<Option<u64>, HistoryError> {
    let mut deliveries = bus.subscribe(topic, StartAt::StreamSequence(at)).await?;
    let delivery = next(&mut deliveries).await?;
    match EventEnvelope::decode(delivery.payload.as_ref()) {
        Ok(envelope) if envelope.sequence == 0 => Ok(None),
        Ok(envelope) => Ok(Some(envelope.sequence)),
        Err(error) => {
            tracing::error!(group = %topic, %error, "undecodable retained event");
            Ok(None)
        }
    }
}

/// Reads the page from `from` up to broker position `last` into `history`.
async fn scan(
    bus: &Bus,
    topic: &Topic,
    from: HistoryCursor,
    last: u64,
    limit: NonZeroUsize,
    mut history: History,
) -> Result<History, HistoryError> {
    let mut deliveries = bus
        .subscribe(topic, StartAt::StreamSequence(from.from_stream_sequence))
        .await?;
    let mut first = true;
    loop {
        let delivery = next(&mut deliveries).await?;
        match EventEnvelope::decode(delivery.payload.as_ref()) {
            // Presence notices are not part of the numbered history.
            Ok(envelope) if envelope.sequence == 0 => {}
            Ok(envelope) => {
                // The first event is not the next one: `sequence - 1`, because `after + 1`
                // overflows for the client's largest number.
                if first && envelope.sequence.saturating_sub(1) > from.after {
                    history.reset = Some(ResetReason::Expired);
                }
                first = false;
                history.newest = history.newest.max(envelope.sequence);
                // Older positions and re-published duplicates are skipped.
                if envelope.sequence > history.sequence {
                    if history.events.len() == limit.get() {
                        history.next = Some(HistoryCursor {
                            after: history.sequence,
                            from_stream_sequence: delivery.stream_sequence,
                        });
                        return Ok(history);
                    }
                    history.sequence = envelope.sequence;
                    history.events.push(envelope);
                }
            }
            Err(error) => {
                tracing::error!(group = %topic, %error, "undecodable retained event skipped")
            }
        }
        if delivery.stream_sequence >= last {
            break;
        }
    }
    if history.newest < from.after {
        return Ok(History::empty(from).reset(ResetReason::Ahead, history.newest));
    }
    Ok(history)
}

/// The next retained message, in time.
async fn next(deliveries: &mut Deliveries) -> Result<Delivery, HistoryError> {
    tokio::time::timeout(STEP_TIMEOUT, deliveries.next())
        .await
        .map_err(|_| HistoryError::Stalled)?
        .ok_or(HistoryError::Stalled)?
        .map_err(HistoryError::from)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use pulse_bus::Namespace;
    use pulse_proto::lists::LIST;
    use pulse_proto::{
        events::v1::Event,
        lists::v1::{event::Kind, ItemDeleted},
    };
    use uuid::Uuid;

    use super::*;

    fn bus() -> Bus {
        Bus::memory(Namespace::new("history").expect("namespace"))
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

    fn sequences(history: &History) -> Vec<u64> {
        history.events.iter().map(|e| e.sequence).collect()
    }

    fn limit(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).expect("non-zero")
    }

    #[tokio::test]
    async fn events_after_the_position_come_once_in_order() {
        let bus = bus();
        let topic = LIST.topic(Uuid::new_v4());
        let other = LIST.topic(Uuid::new_v4());
        for sequence in [1, 2, 2, 3, 4] {
            publish(&bus, topic, sequence).await;
        }
        publish(&bus, other, 5).await;
        let history = read(&bus, &topic, HistoryCursor::after(1), limit(10))
            .await
            .expect("read");
        assert_eq!(sequences(&history), [2, 3, 4]);
        assert_eq!(
            (history.reset, history.sequence, history.next),
            (None, 4, None)
        );
    }

    #[tokio::test]
    async fn pages_continue_where_the_previous_one_ended() {
        let bus = bus();
        let topic = LIST.topic(Uuid::new_v4());
        for sequence in 1..=5 {
            publish(&bus, topic, sequence).await;
        }
        let first = read(&bus, &topic, HistoryCursor::after(0), limit(2))
            .await
            .expect("read");
        assert_eq!((sequences(&first), first.sequence), (vec![1, 2], 2));
        let next = first.next.expect("more to read");
        assert_eq!(next.sequence(), 2);
        let second = read(&bus, &topic, next, limit(2)).await.expect("read");
        assert_eq!(sequences(&second), [3, 4]);
        let third = read(&bus, &topic, second.next.expect("more"), limit(2))
            .await
            .expect("read");
        assert_eq!(
            (sequences(&third), third.next, third.reset),
            (vec![5], None, None)
        );
        // A full page with nothing after it is the last one.
        let exact = read(&bus, &topic, HistoryCursor::after(3), limit(2))
            .await
            .expect("read");
        assert_eq!((sequences(&exact), exact.next), (vec![4, 5], None));
    }

    #[tokio::test]
    async fn a_position_that_cannot_be_continued_asks_for_a_reset() {
        let bus = bus();
        let topic = LIST.topic(Uuid::new_v4());
        let empty = read(&bus, &topic, HistoryCursor::after(3), limit(10))
            .await
            .expect("read");
        assert_eq!(empty.reset, Some(ResetReason::NothingRetained));
        let fresh = read(&bus, &topic, HistoryCursor::after(0), limit(10))
            .await
            .expect("read");
        assert_eq!(fresh.reset, None, "nothing was missed");

        // Retention dropped 1 and 2.
        for sequence in 3..=4 {
            publish(&bus, topic, sequence).await;
        }
        let expired = read(&bus, &topic, HistoryCursor::after(1), limit(10))
            .await
            .expect("read");
        assert_eq!(
            (expired.reset, sequences(&expired)),
            (Some(ResetReason::Expired), vec![3, 4])
        );
        let current = read(&bus, &topic, HistoryCursor::after(2), limit(10))
            .await
            .expect("read");
        assert_eq!((current.reset, sequences(&current)), (None, vec![3, 4]));
        let ahead = read(&bus, &topic, HistoryCursor::after(9), limit(10))
            .await
            .expect("read");
        assert_eq!(
            (ahead.reset, ahead.sequence, ahead.events.len()),
            (Some(ResetReason::Ahead), 4, 0),
            "the reader stands at the group's real position"
        );
        assert_eq!(
            empty.sequence, 0,
            "nothing retained: no position to stand at"
        );
    }

    #[tokio::test]
    async fn the_largest_position_a_client_can_name_is_ahead_not_an_overflow() {
        let bus = bus();
        let topic = LIST.topic(Uuid::new_v4());
        for sequence in 1..=3 {
            publish(&bus, topic, sequence).await;
        }
        let history = read(&bus, &topic, HistoryCursor::after(u64::MAX), limit(10))
            .await
            .expect("read");
        assert_eq!(
            (history.reset, history.sequence, history.newest),
            (Some(ResetReason::Ahead), 3, 3)
        );
        assert!(history.events.is_empty());
    }
}
