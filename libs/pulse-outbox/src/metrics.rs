//! What operators read of a service's outbox: the rows waiting and how long
//! the oldest has waited (read from the table at each scrape), and what this
//! process's relay has done (counted as it publishes).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::Duration,
};

use pulse_telemetry::prometheus::{header, single, Histogram};

use crate::Outbox;

/// The relay's counts, kept with the outbox.
#[derive(Debug, Default)]
pub(crate) struct RelayMetrics {
    published: AtomicU64,
    /// Of those, rows handed over by their commits, not read back.
    handed: AtomicU64,
    failures: AtomicU64,
    /// Per round trip to the broker (one per batch of rows).
    publish_latency: Mutex<Histogram>,
}

impl RelayMetrics {
    /// One round: `published` rows acknowledged, `failed` refused, after
    /// `elapsed`.
    pub(crate) fn round(&self, published: usize, failed: usize, elapsed: Duration) {
        self.published.fetch_add(
            u64::try_from(published).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.failures
            .fetch_add(u64::try_from(failed).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.publish_latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(elapsed.as_secs_f64());
    }

    /// `published` rows of a round went out as their commits handed them
    /// over.
    pub(crate) fn handed(&self, published: usize) {
        self.handed.fetch_add(
            u64::try_from(published).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

impl Outbox {
    /// The outbox's metrics in the Prometheus text format. The depth and age
    /// come from one query; when the database does not answer they are left
    /// out (the scrape still shows the relay's counts).
    pub async fn metrics_text(&self) -> String {
        let mut out = String::with_capacity(2048);
        let waiting = sqlx::query!(
            r#"SELECT count(*) AS "rows!",
                      COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))::float8, 0)
                          AS "oldest_seconds!"
               FROM pulse_outbox"#
        )
        .fetch_one(self.pool())
        .await;
        match waiting {
            Ok(waiting) => {
                single(
                    &mut out,
                    "pulse_outbox_rows",
                    "gauge",
                    "Events committed and not yet published.",
                    waiting.rows,
                );
                single(
                    &mut out,
                    "pulse_outbox_oldest_row_age_seconds",
                    "gauge",
                    "How long the oldest unpublished event has waited (0 when none waits).",
                    waiting.oldest_seconds.max(0.0),
                );
            }
            Err(error) => tracing::debug!(%error, "outbox metrics cannot read the outbox"),
        }
        let relay = self.relay_metrics();
        single(
            &mut out,
            "pulse_relay_leader",
            "gauge",
            "1 while this process's relay is the active one (holds the relay lock).",
            u8::from(self.is_leading()),
        );
        single(
            &mut out,
            "pulse_relay_published_total",
            "counter",
            "Outbox rows this relay published (acknowledged by the broker).",
            relay.published.load(Ordering::Relaxed),
        );
        single(
            &mut out,
            "pulse_relay_handed_total",
            "counter",
            "Of the rows published, those handed over by a commit in this process and published without reading them back from the outbox.",
            relay.handed.load(Ordering::Relaxed),
        );
        single(
            &mut out,
            "pulse_relay_publish_failures_total",
            "counter",
            "Outbox rows the broker refused or did not acknowledge (retried).",
            relay.failures.load(Ordering::Relaxed),
        );
        header(
            &mut out,
            "pulse_relay_publish_duration_seconds",
            "histogram",
            "Time of one publish round trip to the broker (a batch of rows).",
        );
        relay
            .publish_latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .render(&mut out, "pulse_relay_publish_duration_seconds", "");
        out
    }
}
