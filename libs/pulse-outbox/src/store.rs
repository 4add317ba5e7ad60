use chrono::{DateTime, Utc};
use prost::Message;
use pulse_bus::Topic;
use pulse_proto::events::v1::{Event, EventEnvelope};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{relay::OutboxRow, trace::Traced, OutboxTransaction};

/// Appends an event to its group's sequence, inside the caller's transaction.
///
/// The sequence row is locked until the transaction ends, so events of one
/// group are numbered 1, 2, 3 ... in commit order with no gaps; a rolled-back
/// command leaves no number behind. `except_user` keeps the event from that
/// user's own connections ("to the others"). `event` is any domain's
/// `event::Kind` (or the envelope's `Event`).
pub async fn enqueue(
    tx: &mut OutboxTransaction,
    topic: &Topic,
    event: impl Into<Event>,
    except_user: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    enqueue_all(tx, vec![(*topic, event, except_user)]).await
}

/// [`enqueue`] for many events at once (one statement), numbered in the
/// given order within each group. The sequence rows are locked in the order
/// of their groups' names, so two transactions enqueueing to the same groups
/// never wait for each other in a circle.
pub async fn enqueue_all(
    tx: &mut OutboxTransaction,
    events: Vec<(Topic, impl Into<Event>, Option<Uuid>)>,
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let enqueued = Enqueued::new(events);
    let rows = sqlx::query_as!(
        AppendedRow,
        r#"SELECT id AS "id!", sequence AS "sequence!"
           FROM pulse_outbox_append_events($1, $2, $3)"#,
        &enqueued.topics,
        &enqueued.envelopes,
        enqueued.traceparent,
    )
    .fetch_all(&mut **tx)
    .await?;
    enqueued.appended(tx, rows);
    Ok(())
}

/// Events to enqueue in a statement of the caller's own, the one that writes
/// the change they record: one round trip instead of two. The statement
/// passes the three fields to `pulse_outbox_append_events(topics, envelopes,
/// traceparent)` (the outbox's schema), which numbers them and appends their
/// rows as [`enqueue_all`] does, each row keeping the current span's trace
/// context and the time it was written, from which the relay records its
/// wait; it returns the rows' ids and numbers (`id`, `sequence`), which the
/// caller gives to [`Enqueued::appended`]. The envelopes are stored without
/// their numbers, which the relay fills in from the `sequence` column.
#[derive(Debug)]
pub struct Enqueued {
    pub topics: Vec<String>,
    pub envelopes: Vec<Vec<u8>>,
    pub traceparent: Option<String>,
    /// The parsed form of `topics`, for the relay.
    groups: Vec<Topic>,
    written_at: DateTime<Utc>,
}

/// A row `pulse_outbox_append_events` appended: its id and its event's
/// number in the group.
#[derive(Debug, Clone, Copy)]
pub struct AppendedRow {
    pub id: i64,
    pub sequence: i64,
}

impl Enqueued {
    /// The events in the given order, numbered in that order within each
    /// group when the statement runs.
    pub fn new(events: Vec<(Topic, impl Into<Event>, Option<Uuid>)>) -> Self {
        let written_at = Utc::now();
        let occurred_at = pulse_proto::timestamp(written_at);
        let mut enqueued = Self {
            topics: Vec::with_capacity(events.len()),
            envelopes: Vec::with_capacity(events.len()),
            traceparent: pulse_telemetry::current_traceparent(),
            groups: Vec::with_capacity(events.len()),
            written_at,
        };
        for (topic, event, except_user) in events {
            let envelope = envelope(
                topic.group(),
                occurred_at.clone(),
                event.into(),
                except_user,
            );
            enqueued.envelopes.push(envelope.encode_to_vec());
            enqueued.topics.push(envelope.group);
            enqueued.groups.push(topic);
        }
        enqueued
    }

    /// Records in `tx` the rows the statement appended (what
    /// `pulse_outbox_append_events` returned, in order), so its commit hands
    /// them to the relay, which then need not read them back. Rows not
    /// recorded still go out, read from the outbox a little later.
    pub fn appended(self, tx: &mut OutboxTransaction, rows: Vec<AppendedRow>) {
        let mut traced = Vec::new();
        let rows = rows
            .into_iter()
            .zip(self.groups.into_iter().zip(self.envelopes))
            .map(|(row, (topic, envelope))| {
                if let Some(traceparent) = &self.traceparent {
                    traced.push(Traced {
                        id: row.id,
                        traceparent: traceparent.clone(),
                        written_at: self.written_at,
                    });
                }
                OutboxRow {
                    id: row.id,
                    topic,
                    sequence: row.sequence,
                    envelope,
                }
            })
            .collect();
        tx.appended(rows, traced);
    }
}

/// Appends a presence notice for the group, inside the caller's transaction:
/// delivered live in order with the group's events, but outside the numbered
/// stream. It takes no sequence number (the envelope's `sequence` is 0), so it
/// can never leave a hole in the numbers a client sees, and readers of the
/// group's history skip it. Exactly once: the relay publishes it under a
/// message id made from the outbox row's id, which JetStream de-duplicates.
pub async fn enqueue_notice(
    tx: &mut OutboxTransaction,
    topic: &Topic,
    event: impl Into<Event>,
    except_user: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    enqueue_notices(tx, vec![(*topic, event, except_user)]).await
}

/// [`enqueue_notice`] for many notices at once (one statement), in the given
/// order.
pub async fn enqueue_notices(
    tx: &mut OutboxTransaction,
    notices: Vec<(Topic, impl Into<Event>, Option<Uuid>)>,
) -> Result<(), sqlx::Error> {
    if notices.is_empty() {
        return Ok(());
    }
    // Envelopes as for events; the row's `sequence` column (0) marks them.
    let notices = Enqueued::new(notices);
    sqlx::query!(
        "INSERT INTO pulse_outbox (topic, sequence, envelope, traceparent, created_at)
         SELECT topic, 0, envelope, $3, clock_timestamp()
         FROM UNNEST($1::text[], $2::bytea[]) WITH ORDINALITY AS n (topic, envelope, i)
         ORDER BY i",
        &notices.topics,
        &notices.envelopes,
        notices.traceparent,
    )
    .execute(&mut **tx)
    .await?;
    tx.appended_unlisted();
    Ok(())
}

/// An unnumbered envelope.
fn envelope(
    group: String,
    occurred_at: String,
    event: Event,
    except_user: Option<Uuid>,
) -> EventEnvelope {
    EventEnvelope {
        group,
        sequence: 0,
        occurred_at,
        except_user_id: except_user.map(|id| id.to_string()),
        event: Some(event),
    }
}

/// The sequence of the group's last event (0 if none). Read it in the same
/// repeatable-read transaction as a snapshot, and the snapshot reflects exactly
/// the events up to this number.
pub async fn current_sequence(conn: &mut PgConnection, topic: &Topic) -> Result<u64, sqlx::Error> {
    let sequence = sqlx::query_scalar!(
        "SELECT last_sequence FROM pulse_event_sequences WHERE topic = $1",
        topic.group(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(sequence.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
}

/// How many of the group's rows (events and notices) are committed and not
/// yet acknowledged by the bus: 0 once everything committed so far has been
/// published.
pub async fn waiting(conn: &mut PgConnection, topic: &Topic) -> Result<u64, sqlx::Error> {
    let waiting = sqlx::query_scalar!(
        r#"SELECT count(*) AS "waiting!" FROM pulse_outbox WHERE topic = $1"#,
        topic.group(),
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(waiting).unwrap_or(0))
}
