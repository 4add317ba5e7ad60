use chrono::{SecondsFormat, Utc};
use prost::Message;
use pulse_bus::Topic;
use pulse_proto::events::v1::{event::Kind, Event, EventEnvelope};
use sqlx::PgConnection;
use uuid::Uuid;

/// Appends an event to its group's sequence, inside the caller's transaction.
///
/// The sequence row is locked until the transaction ends, so events of one
/// group are numbered 1, 2, 3 ... in commit order with no gaps; a rolled-back
/// command leaves no number behind. `except_user` keeps the event from that
/// user's own connections ("to the others").
pub async fn enqueue(
    conn: &mut PgConnection,
    topic: &Topic,
    event: Kind,
    except_user: Option<Uuid>,
) -> Result<EventEnvelope, sqlx::Error> {
    let group = topic.group();
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO pulse_event_sequences (topic, last_sequence) VALUES ($1, 1)
         ON CONFLICT (topic) DO UPDATE
             SET last_sequence = pulse_event_sequences.last_sequence + 1
         RETURNING last_sequence",
    )
    .bind(&group)
    .fetch_one(&mut *conn)
    .await?;
    let envelope = EventEnvelope {
        group: group.clone(),
        sequence: u64::try_from(sequence).unwrap_or_default(),
        occurred_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        except_user_id: except_user.map(|id| id.to_string()),
        event: Some(Event { kind: Some(event) }),
    };
    sqlx::query("INSERT INTO pulse_outbox (topic, sequence, envelope) VALUES ($1, $2, $3)")
        .bind(&group)
        .bind(sequence)
        .bind(envelope.encode_to_vec())
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(crate::CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(envelope)
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
    event: Kind,
    except_user: Option<Uuid>,
) -> Result<EventEnvelope, sqlx::Error> {
    let group = topic.group();
    let envelope = EventEnvelope {
        group: group.clone(),
        sequence: 0,
        occurred_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        except_user_id: except_user.map(|id| id.to_string()),
        event: Some(Event { kind: Some(event) }),
    };
    sqlx::query("INSERT INTO pulse_outbox (topic, sequence, envelope) VALUES ($1, 0, $2)")
        .bind(&group)
        .bind(envelope.encode_to_vec())
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(crate::CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(envelope)
}

/// [`enqueue_notice`] for many notices at once (one statement, one wake-up
/// of the relay), in the given order.
pub async fn enqueue_notices(
    conn: &mut PgConnection,
    notices: Vec<(Topic, Kind, Option<Uuid>)>,
) -> Result<(), sqlx::Error> {
    if notices.is_empty() {
        return Ok(());
    }
    let occurred_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let (groups, envelopes): (Vec<String>, Vec<Vec<u8>>) = notices
        .into_iter()
        .map(|(topic, event, except_user)| {
            let envelope = EventEnvelope {
                group: topic.group(),
                sequence: 0,
                occurred_at: occurred_at.clone(),
                except_user_id: except_user.map(|id| id.to_string()),
                event: Some(Event { kind: Some(event) }),
            };
            (envelope.group.clone(), envelope.encode_to_vec())
        })
        .unzip();
    sqlx::query(
        "INSERT INTO pulse_outbox (topic, sequence, envelope)
         SELECT topic, 0, envelope FROM UNNEST($1::text[], $2::bytea[]) WITH ORDINALITY AS n (topic, envelope, i)
         ORDER BY i",
    )
    .bind(&groups)
    .bind(&envelopes)
    .execute(&mut *conn)
    .await?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(crate::CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The sequence of the group's last event (0 if none). Read it in the same
/// repeatable-read transaction as a snapshot, and the snapshot reflects exactly
/// the events up to this number.
pub async fn current_sequence(conn: &mut PgConnection, topic: &Topic) -> Result<u64, sqlx::Error> {
    let sequence: Option<i64> =
        sqlx::query_scalar("SELECT last_sequence FROM pulse_event_sequences WHERE topic = $1")
            .bind(topic.group())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(sequence.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
}
