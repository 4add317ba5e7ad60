//! The relay's part of a command's trace: for each row written in a traced
//! command, an "outbox wait" span from the row's write to its publish, and an
//! "outbox publish" span until the broker acknowledged it, whose context the
//! message carries on (its `traceparent` header) to the gateways. Rows
//! written without tracing cost nothing here.

use std::{collections::HashMap, time::SystemTime};

use chrono::{DateTime, Utc};
use pulse_bus::{BusError, Outgoing};
use pulse_telemetry::{ChildSpan, KeyValue, SpanKind};

/// A row written in a traced command.
#[derive(Debug)]
pub(crate) struct Traced {
    pub id: i64,
    pub traceparent: String,
    pub written_at: DateTime<Utc>,
}

/// The publish spans of a round's traced rows, by row id.
#[derive(Debug, Default)]
pub(crate) struct Publishing(HashMap<i64, ChildSpan>);

impl Publishing {
    /// Records each row's wait, ended now, and starts its publish.
    pub(crate) fn start(traced: Vec<Traced>) -> Self {
        if traced.is_empty() {
            return Self::default();
        }
        let now = SystemTime::now();
        let mut spans = HashMap::with_capacity(traced.len());
        for row in traced {
            let written_at = SystemTime::from(row.written_at);
            if let Some(wait) = ChildSpan::start(
                "outbox wait",
                SpanKind::Internal,
                &row.traceparent,
                written_at,
            ) {
                wait.end_at(now);
            }
            if let Some(mut publish) =
                ChildSpan::start("outbox publish", SpanKind::Producer, &row.traceparent, now)
            {
                publish.set_attribute(KeyValue::new("messaging.system", "nats"));
                publish.set_attribute(KeyValue::new("pulse.outbox.row_id", row.id));
                spans.insert(row.id, publish);
            }
        }
        Self(spans)
    }

    /// Gives each traced row's message the context of its publish span.
    pub(crate) fn stamp<'m>(&self, messages: impl Iterator<Item = (i64, &'m mut Outgoing)>) {
        if self.0.is_empty() {
            return;
        }
        for (id, message) in messages {
            if let Some(span) = self.0.get(&id) {
                message.traceparent = span.traceparent();
            }
        }
    }

    /// Ends the row's publish span with the broker's answer.
    pub(crate) fn finish(&mut self, id: i64, result: &Result<(), BusError>) {
        let Some(mut span) = self.0.remove(&id) else {
            return;
        };
        if let Err(error) = result {
            span.fail(error.to_string());
        }
        span.end_at(SystemTime::now());
    }
}
