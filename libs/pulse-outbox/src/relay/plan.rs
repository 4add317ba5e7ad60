//! The messages of one publishing round, made from outbox rows: each
//! group's together, in order, each after the group's first naming the one
//! before it.

use std::collections::HashMap;

use bytes::Bytes;
use prost::Message;
use pulse_bus::{Outgoing, Topic};
use pulse_proto::events::v1::EventEnvelope;

/// A committed outbox row of a known group, read back from the outbox or
/// handed over by its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutboxRow {
    pub(crate) id: i64,
    pub(crate) topic: Topic,
    /// The event's number in its group; 0 for a presence notice.
    pub(crate) sequence: i64,
    /// The envelope as stored: without its number.
    pub(crate) envelope: Vec<u8>,
}

/// Which row a planned message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RowKey {
    pub(super) id: i64,
    pub(super) topic: Topic,
    pub(super) sequence: i64,
}

/// Rows ordered for one round.
#[derive(Debug, Default)]
pub(super) struct Planned {
    /// Rows with an envelope that does not decode: dropped (logged),
    /// counted as done.
    pub(super) dropped: Vec<i64>,
    pub(super) messages: Vec<(RowKey, Outgoing)>,
}

/// A row ready to publish: which it is, its message id, payload.
type ReadyRow = (RowKey, String, Bytes);

/// Orders rows for one round: each group's together, in order of their
/// groups' first rows, and within a group in the order given (the rows' id
/// order). Each message after a group's first names the one before it
/// (`Outgoing::after`): the broker stores it only right after that one.
pub(super) fn plan_round(rows: Vec<OutboxRow>) -> Planned {
    let mut plan = Planned::default();
    let mut groups: Vec<Vec<ReadyRow>> = Vec::new();
    let mut index: HashMap<Topic, usize> = HashMap::new();
    for row in rows {
        let group = row.topic.group();
        // A notice (sequence 0) has no number of its own: its row id is unique.
        let msg_id = if row.sequence == 0 {
            format!("{group}:notice:{}", row.id)
        } else {
            format!("{group}:{}", row.sequence)
        };
        let Some(payload) = numbered(row.envelope, row.sequence) else {
            tracing::error!(%group, id = row.id, "outbox row with an undecodable envelope; dropped");
            plan.dropped.push(row.id);
            continue;
        };
        let slot = *index.entry(row.topic).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        let key = RowKey {
            id: row.id,
            topic: row.topic,
            sequence: row.sequence,
        };
        groups[slot].push((key, msg_id, payload));
    }
    for rows in groups {
        let mut after = None;
        for (key, msg_id, payload) in rows {
            let outgoing = Outgoing {
                topic: key.topic,
                msg_id: msg_id.clone(),
                payload,
                after: after.replace(msg_id),
                traceparent: None,
            };
            plan.messages.push((key, outgoing));
        }
    }
    plan
}

/// The envelope as published: with the row's group sequence, which
/// [`crate::enqueue`] stores beside the envelope rather than in it (a notice
/// has none and goes as stored).
fn numbered(envelope: Vec<u8>, sequence: i64) -> Option<Bytes> {
    let Ok(sequence) = u64::try_from(sequence) else {
        return None;
    };
    if sequence == 0 {
        return Some(Bytes::from(envelope));
    }
    let mut decoded = EventEnvelope::decode(envelope.as_slice()).ok()?;
    decoded.sequence = sequence;
    Some(Bytes::from(decoded.encode_to_vec()))
}

#[cfg(test)]
mod tests {
    use pulse_proto::{leancoffee::SESSION, lists::LIST};
    use uuid::Uuid;

    use super::*;

    fn row(id: i64, topic: Topic, sequence: i64, envelope: Vec<u8>) -> OutboxRow {
        OutboxRow {
            id,
            topic,
            sequence,
            envelope,
        }
    }

    #[test]
    fn a_groups_rows_go_together_in_order_each_naming_the_one_before() {
        let (a, b) = (LIST.topic(Uuid::new_v4()), SESSION.topic(Uuid::new_v4()));
        let plan = plan_round(vec![
            row(1, a, 1, vec![]),
            row(2, a, 2, vec![]),
            row(3, b, 1, vec![]),
            row(5, a, 3, vec![]),
            row(6, b, 2, vec![]),
        ]);
        let planned: Vec<(i64, String, Option<String>)> = plan
            .messages
            .iter()
            .map(|(key, outgoing)| (key.id, outgoing.msg_id.clone(), outgoing.after.clone()))
            .collect();
        let (ga, gb) = (a.group(), b.group());
        assert_eq!(
            planned,
            vec![
                (1, format!("{ga}:1"), None),
                (2, format!("{ga}:2"), Some(format!("{ga}:1"))),
                (5, format!("{ga}:3"), Some(format!("{ga}:2"))),
                (3, format!("{gb}:1"), None),
                (6, format!("{gb}:2"), Some(format!("{gb}:1"))),
            ]
        );
        assert!(plan.dropped.is_empty());
    }

    #[test]
    fn an_event_goes_out_with_the_sequence_of_its_row() {
        let a = LIST.topic(Uuid::new_v4());
        let stored = EventEnvelope {
            group: a.group(),
            occurred_at: "2026-12-06T20:00:00.000Z".to_owned(),
            ..EventEnvelope::default()
        };
        let plan = plan_round(vec![
            row(1, a, 7, stored.encode_to_vec()),
            row(2, a, 0, stored.encode_to_vec()),
            row(3, a, 8, b"not an envelope".to_vec()),
        ]);
        let published: Vec<EventEnvelope> = plan
            .messages
            .iter()
            .map(|(_, outgoing)| {
                EventEnvelope::decode(outgoing.payload.clone()).expect("an envelope")
            })
            .collect();
        assert_eq!(
            published,
            vec![
                EventEnvelope {
                    sequence: 7,
                    ..stored.clone()
                },
                stored
            ]
        );
        assert_eq!(plan.dropped, vec![3], "an undecodable row is dropped");
    }

    #[test]
    fn a_notice_is_identified_by_its_row_and_keeps_its_place_in_the_group() {
        let a = LIST.topic(Uuid::new_v4());
        let plan = plan_round(vec![
            row(7, a, 1, vec![]),
            row(8, a, 0, vec![]),
            row(9, a, 0, vec![]),
            row(10, a, 2, vec![]),
        ]);
        let ids: Vec<(i64, String)> = plan
            .messages
            .iter()
            .map(|(key, outgoing)| (key.id, outgoing.msg_id.clone()))
            .collect();
        let group = a.group();
        assert_eq!(
            ids,
            vec![
                (7, format!("{group}:1")),
                (8, format!("{group}:notice:8")),
                (9, format!("{group}:notice:9")),
                (10, format!("{group}:2")),
            ]
        );
    }
}
