//! What the leading relay knows it has published: the newest number of each
//! group. A row handed over by its commit goes out straight from memory only
//! when it is the next of its group after that number; that is the same
//! guarantee a read of the outbox gives (every earlier row of the group is
//! published or goes ahead of it), without the read.

use std::collections::HashMap;

use pulse_bus::Topic;

use super::plan::OutboxRow;

/// Groups remembered at most. Past it the relay forgets them all, and
/// learns each again from the next read of the outbox that publishes one of
/// its rows: 16,384 groups cost about 1 MiB.
const MOST_GROUPS: usize = 16_384;

/// The newest number the broker acknowledged in each group, from this
/// relay's rounds since it took the lead; a group it has not published in
/// since is unknown.
#[derive(Debug, Default)]
pub(super) struct Frontier(HashMap<Topic, i64>);

impl Frontier {
    /// The broker stored event `sequence` of `topic` (and so every one
    /// before it: a row goes out only after its predecessor).
    pub(super) fn published(&mut self, topic: Topic, sequence: i64) {
        if sequence <= 0 {
            return;
        }
        if self.0.len() >= MOST_GROUPS && !self.0.contains_key(&topic) {
            self.0.clear();
        }
        let newest = self.0.entry(topic).or_insert(sequence);
        *newest = (*newest).max(sequence);
    }

    /// Handed rows in id order, the order to publish them, leaving out
    /// those published already (a read of the outbox found them first).
    /// `None` when any other row is not known to be the next of its group:
    /// its group is unknown here, or a row before it is not among them
    /// (committed by another process, or not handed over). Then the outbox
    /// is read instead.
    pub(super) fn in_turn(&self, mut rows: Vec<OutboxRow>) -> Option<Vec<OutboxRow>> {
        // Within a group, id order is number order: a group's rows are
        // written one transaction after another, under its sequence's lock.
        rows.sort_unstable_by_key(|row| row.id);
        let mut newest: HashMap<Topic, i64> = HashMap::new();
        let mut ready = Vec::with_capacity(rows.len());
        for row in rows {
            if row.sequence <= 0 {
                return None;
            }
            let last = match newest.get(&row.topic) {
                Some(last) => *last,
                None => *self.0.get(&row.topic)?,
            };
            if row.sequence <= last {
                continue;
            }
            if row.sequence != last + 1 {
                return None;
            }
            newest.insert(row.topic, row.sequence);
            ready.push(row);
        }
        Some(ready)
    }
}

#[cfg(test)]
mod tests {
    use pulse_proto::lists::LIST;
    use uuid::Uuid;

    use super::*;

    fn row(id: i64, topic: Topic, sequence: i64) -> OutboxRow {
        OutboxRow {
            id,
            topic,
            sequence,
            envelope: Vec::new(),
        }
    }

    fn ids(rows: Option<Vec<OutboxRow>>) -> Option<Vec<i64>> {
        rows.map(|rows| rows.iter().map(|row| row.id).collect())
    }

    #[test]
    fn rows_that_continue_their_groups_go_in_id_order() {
        let (a, b) = (LIST.topic(Uuid::new_v4()), LIST.topic(Uuid::new_v4()));
        let mut frontier = Frontier::default();
        frontier.published(a, 4);
        frontier.published(b, 1);
        let handed = vec![row(12, a, 6), row(11, b, 2), row(10, a, 5)];
        assert_eq!(ids(frontier.in_turn(handed)), Some(vec![10, 11, 12]));
    }

    #[test]
    fn a_row_already_published_is_left_out() {
        let a = LIST.topic(Uuid::new_v4());
        let mut frontier = Frontier::default();
        frontier.published(a, 3);
        frontier.published(a, 2);
        assert_eq!(
            ids(frontier.in_turn(vec![row(3, a, 3), row(4, a, 4)])),
            Some(vec![4])
        );
    }

    #[test]
    fn a_gap_an_unknown_group_or_a_notice_sends_the_relay_to_the_outbox() {
        let (a, unknown) = (LIST.topic(Uuid::new_v4()), LIST.topic(Uuid::new_v4()));
        let mut frontier = Frontier::default();
        frontier.published(a, 1);
        assert_eq!(ids(frontier.in_turn(vec![row(9, a, 3)])), None);
        assert_eq!(ids(frontier.in_turn(vec![row(9, unknown, 1)])), None);
        assert_eq!(ids(frontier.in_turn(vec![row(9, a, 0)])), None);
        assert_eq!(
            ids(frontier.in_turn(vec![row(8, a, 2), row(9, unknown, 1)])),
            None
        );
    }

    #[test]
    fn past_its_bound_it_forgets_every_group() {
        let first = LIST.topic(Uuid::new_v4());
        let mut frontier = Frontier::default();
        frontier.published(first, 1);
        for _ in 1..MOST_GROUPS {
            frontier.published(LIST.topic(Uuid::new_v4()), 1);
        }
        assert_eq!(ids(frontier.in_turn(vec![row(2, first, 2)])), Some(vec![2]));
        frontier.published(LIST.topic(Uuid::new_v4()), 1);
        assert_eq!(ids(frontier.in_turn(vec![row(2, first, 2)])), None);
    }
}
