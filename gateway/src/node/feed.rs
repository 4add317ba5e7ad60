//! Following one topic on the bus for as long as someone needs it: decoding,
//! dropping duplicates by the group sequence (presence notices carry none and
//! pass through), and resubscribing right after
//! the last stream position seen when the bus ends a subscription (broker
//! restart, network loss), so nothing is skipped or repeated.

use futures::StreamExt;
use prost::Message;
use pulse_bus::{Bus, Deliveries, StartAt, Topic};
use pulse_proto::events::v1::{Event, EventEnvelope};
use tokio_util::sync::CancellationToken;

/// Hands every new event of `topic` to `handle` (with the trace context it
/// was published in, if any), in order and once, until
/// `cancel` fires. `deliveries` is the live subscription the caller opened
/// (so the caller knows when it is live). After the bus ended it, the
/// subscription is opened again `resubscribe_delay` later (and then every
/// `resubscribe_delay` until it opens), so a broker that is down is not
/// hammered.
pub(super) async fn follow(
    bus: Bus,
    topic: Topic,
    mut deliveries: Deliveries,
    resubscribe_delay: std::time::Duration,
    cancel: CancellationToken,
    mut handle: impl FnMut(&EventEnvelope, &Event, Option<&str>),
) {
    let mut last_stream_sequence = 0;
    let mut last_group_sequence = 0;
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            next = deliveries.next() => next,
        };
        match next {
            Some(Ok(delivery)) => {
                last_stream_sequence = delivery.stream_sequence;
                let envelope = match EventEnvelope::decode(delivery.payload.as_ref()) {
                    Ok(envelope) => envelope,
                    Err(error) => {
                        tracing::error!(group = %topic, %error, "undecodable event dropped");
                        continue;
                    }
                };
                // A presence notice (sequence 0) has no number to compare;
                // the broker's message id already made it unique.
                if envelope.sequence != 0 && envelope.sequence <= last_group_sequence {
                    tracing::debug!(group = %topic, sequence = envelope.sequence, "duplicate event dropped");
                    continue;
                }
                last_group_sequence = last_group_sequence.max(envelope.sequence);
                match envelope.event.as_ref().filter(|e| e.kind().is_some()) {
                    Some(event) => handle(&envelope, event, delivery.traceparent.as_deref()),
                    None => tracing::error!(group = %topic, "event without payload dropped"),
                }
                continue;
            }
            Some(Err(error)) => tracing::warn!(group = %topic, %error, "bus subscription failed"),
            None => tracing::warn!(group = %topic, "bus subscription ended"),
        }
        deliveries = loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(resubscribe_delay) => {}
            }
            let start = StartAt::StreamSequence(last_stream_sequence + 1);
            match bus.subscribe(&topic, start).await {
                Ok(deliveries) => break deliveries,
                Err(error) => tracing::warn!(group = %topic, %error, "resubscribe failed"),
            }
        };
    }
}
