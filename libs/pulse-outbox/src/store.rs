use chrono::Utc;
use prost::Message;
use pulse_bus::Topic;
use pulse_proto::events::v1::{Event, EventEnvelope};
use sqlx::PgConnection;
use uuid::Uuid;

/// Appends an event to its group's sequence, inside the caller's transaction.
///
/// The sequence row is locked until the transaction ends, so events of one
/// group are numbered 1, 2, 3 ... in commit order with no gaps; a rolled-back
/// command leaves no number behind. `except_user` keeps the event from that
/// user's own connections ("to the others"). `event` is any domain's
/// `event::Kind` (or the envelope's `Event`).
pub async fn enqueue(
    conn: &mut PgConnection,
    topic: &Topic,
    event: impl Into<Event>,
    except_user: Option<Uuid>,
) -> Result<EventEnvelope, sqlx::Error> {
    let mut enqueued = envelope(topic.group(), 0, now(), event.into(), except_user);
    let sequences = number_and_append(conn, std::slice::from_ref(&enqueued)).await?;
    enqueued.sequence = sequences.first().copied().unwrap_or_default();
    Ok(enqueued)
}

/// [`enqueue`] for many events at once (one statement), numbered in the
/// given order within each group. The sequence rows are locked in the order
/// of their groups' names, so two transactions enqueueing to the same groups
/// never wait for each other in a circle.
pub async fn enqueue_all(
    conn: &mut PgConnection,
    events: Vec<(Topic, impl Into<Event>, Option<Uuid>)>,
) -> Result<(), sqlx::Error> {
    number_and_append(conn, &envelopes(events)).await?;
    Ok(())
}

/// Numbers the events and writes their rows (one statement); returns their
/// numbers in order.
async fn number_and_append(
    conn: &mut PgConnection,
    envelopes: &[EventEnvelope],
) -> Result<Vec<u64>, sqlx::Error> {
    if envelopes.is_empty() {
        return Ok(Vec::new());
    }
    let enqueued = Enqueued::of(envelopes);
    let sequences = sqlx::query_scalar!(
        r#"SELECT pulse_outbox_enqueue($1, $2, $3) AS "sequence!""#,
        &enqueued.topics,
        &enqueued.envelopes,
        enqueued.traceparent,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(sequences
        .into_iter()
        .map(|sequence| u64::try_from(sequence).unwrap_or_default())
        .collect())
}

/// Events to enqueue in a statement of the caller's own, the one that writes
/// the change they record: one round trip instead of two. The statement
/// passes the three fields to `pulse_outbox_enqueue(topics, envelopes,
/// traceparent)` (the outbox's schema), which numbers them and appends their
/// rows as [`enqueue_all`] does: each row keeps the current span's trace
/// context and the time it was written, from which the relay records its
/// wait. The envelopes are stored without their numbers, which the relay
/// fills in from the `sequence` column.
#[derive(Debug)]
pub struct Enqueued {
    pub topics: Vec<String>,
    pub envelopes: Vec<Vec<u8>>,
    pub traceparent: Option<String>,
}

impl Enqueued {
    /// The events in the given order, numbered in that order within each
    /// group when the statement runs.
    pub fn new(events: Vec<(Topic, impl Into<Event>, Option<Uuid>)>) -> Self {
        Self::of(&envelopes(events))
    }

    fn of(envelopes: &[EventEnvelope]) -> Self {
        Self {
            topics: envelopes.iter().map(|e| e.group.clone()).collect(),
            envelopes: envelopes.iter().map(Message::encode_to_vec).collect(),
            traceparent: pulse_telemetry::current_traceparent(),
        }
    }
}

/// Appends a presence notice for the group, inside the caller's transaction:
/// delivered live in order with the group's events, but outside the numbered
/// stream. It takes no sequence number (the envelope's `sequence` is 0), so it
/// can never leave a hole in the numbers a client sees, and readers of the
/// group's history skip it. Exactly once: the relay publishes it under a
/// message id made from the outbox row's id, which JetStream de-duplicates.
pub async fn enqueue_notice(
    conn: &mut PgConnection,
    topic: &Topic,
    event: impl Into<Event>,
    except_user: Option<Uuid>,
) -> Result<EventEnvelope, sqlx::Error> {
    let notice = envelope(topic.group(), 0, now(), event.into(), except_user);
    append(conn, std::slice::from_ref(&notice)).await?;
    Ok(notice)
}

/// [`enqueue_notice`] for many notices at once (one statement), in the given
/// order.
pub async fn enqueue_notices(
    conn: &mut PgConnection,
    notices: Vec<(Topic, impl Into<Event>, Option<Uuid>)>,
) -> Result<(), sqlx::Error> {
    append(conn, &envelopes(notices)).await
}

/// Unnumbered envelopes for events that occur together, in the given order.
fn envelopes(events: Vec<(Topic, impl Into<Event>, Option<Uuid>)>) -> Vec<EventEnvelope> {
    let occurred_at = now();
    events
        .into_iter()
        .map(|(topic, event, except_user)| {
            envelope(
                topic.group(),
                0,
                occurred_at.clone(),
                event.into(),
                except_user,
            )
        })
        .collect()
}

fn now() -> String {
    pulse_proto::timestamp(Utc::now())
}

fn envelope(
    group: String,
    sequence: u64,
    occurred_at: String,
    event: Event,
    except_user: Option<Uuid>,
) -> EventEnvelope {
    EventEnvelope {
        group,
        sequence,
        occurred_at,
        except_user_id: except_user.map(|id| id.to_string()),
        event: Some(event),
    }
}

/// Writes outbox rows in the given order (one statement). The relay learns of them
/// when the transaction commits ([`crate::OutboxTransaction::commit`]).
async fn append(conn: &mut PgConnection, envelopes: &[EventEnvelope]) -> Result<(), sqlx::Error> {
    if envelopes.is_empty() {
        return Ok(());
    }
    let mut groups = Vec::with_capacity(envelopes.len());
    let mut sequences = Vec::with_capacity(envelopes.len());
    let mut bodies = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        groups.push(envelope.group.clone());
        sequences.push(i64::try_from(envelope.sequence).unwrap_or(i64::MAX));
        bodies.push(envelope.encode_to_vec());
    }
    sqlx::query!(
        "INSERT INTO pulse_outbox (topic, sequence, envelope, traceparent, created_at)
         SELECT topic, sequence, envelope, $4, clock_timestamp()
         FROM UNNEST($1::text[], $2::bigint[], $3::bytea[]) WITH ORDINALITY AS n (topic, sequence, envelope, i)
         ORDER BY i",
        &groups,
        &sequences,
        &bodies,
        pulse_telemetry::current_traceparent(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
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
