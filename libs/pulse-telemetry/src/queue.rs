//! A span processor that never makes the code ending a span wait: finished
//! spans go into a bounded queue, and a task on the runtime exports whatever
//! is queued, in batches, to the collector. When the queue is full (the
//! collector is slow or down) a span is dropped and counted
//! ([`dropped_spans`]) instead of blocking a request or growing memory.
//!
//! The SDK's own batch processor drops the same way but only reports its
//! count in a log line at shutdown; this one makes the count a metric.

use std::{
    fmt::Debug,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use opentelemetry::Context;
use opentelemetry_sdk::{
    error::{OTelSdkError, OTelSdkResult},
    trace::{Span, SpanData, SpanExporter, SpanProcessor},
};
use tokio::sync::{mpsc, Notify};

/// Spans waiting for export at most; past it they are dropped.
pub(crate) const QUEUE_SPANS: usize = 4096;
/// Spans sent to the collector in one request at most.
const BATCH_SPANS: usize = 512;
/// An export that takes longer is given up (its spans are lost).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Spans dropped because the export queue was full, by every queue of the
/// process.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many finished spans were dropped because the export queue was full.
pub fn dropped_spans() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

#[derive(Debug)]
pub(crate) struct SpanQueue {
    spans: mpsc::Sender<SpanData>,
    stop: Arc<Notify>,
}

impl SpanQueue {
    /// Starts the export task on the current runtime (there must be one).
    pub(crate) fn start<E: SpanExporter + 'static>(exporter: E, capacity: usize) -> Self {
        let (spans, queue) = mpsc::channel(capacity);
        let stop = Arc::new(Notify::new());
        tokio::spawn(export(exporter, queue, stop.clone()));
        Self { spans, stop }
    }
}

impl SpanProcessor for SpanQueue {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.spans.try_send(span).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Export is continuous: there is nothing held back to flush.
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    /// Has the task export what is queued and end; does not wait for it
    /// (this runs on the runtime, which the task needs).
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.stop.notify_one();
        Ok(())
    }
}

/// Exports queued spans as they come, a batch at a time, until stopped; then
/// exports what is still queued once more.
async fn export<E: SpanExporter>(
    exporter: E,
    mut queue: mpsc::Receiver<SpanData>,
    stop: Arc<Notify>,
) {
    let failing = AtomicBool::new(false);
    loop {
        let first = tokio::select! {
            () = stop.notified() => break,
            first = queue.recv() => first,
        };
        let Some(first) = first else { break };
        let mut batch = Vec::with_capacity(BATCH_SPANS.min(queue.len() + 1));
        batch.push(first);
        while batch.len() < BATCH_SPANS {
            match queue.try_recv() {
                Ok(span) => batch.push(span),
                Err(_) => break,
            }
        }
        send(&exporter, batch, &failing).await;
    }
    let mut rest = Vec::new();
    while let Ok(span) = queue.try_recv() {
        rest.push(span);
    }
    if !rest.is_empty() {
        send(&exporter, rest, &failing).await;
    }
}

/// One export; a failure is logged when exporting starts failing and when it
/// works again, not once per batch.
async fn send<E: SpanExporter>(exporter: &E, batch: Vec<SpanData>, failing: &AtomicBool) {
    let spans = batch.len();
    let result = match tokio::time::timeout(EXPORT_TIMEOUT, exporter.export(batch)).await {
        Ok(result) => result,
        Err(_) => Err(OTelSdkError::Timeout(EXPORT_TIMEOUT)),
    };
    match result {
        Ok(()) => {
            if failing.swap(false, Ordering::Relaxed) {
                tracing::info!("span export works again");
            }
        }
        Err(error) => {
            if !failing.swap(true, Ordering::Relaxed) {
                tracing::warn!(%error, spans, "span export failed; spans are lost until it works again");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    /// Records the sizes of the batches it is given, after `gate` opens.
    #[derive(Debug, Clone, Default)]
    struct Recording {
        gate: Arc<Notify>,
        batches: Arc<Mutex<Vec<usize>>>,
    }

    impl SpanExporter for Recording {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.gate.notified().await;
            self.batches.lock().expect("lock").push(batch.len());
            Ok(())
        }
    }

    fn finished(sampled: bool) -> SpanData {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(1),
                SpanId::from(1),
                flags,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: opentelemetry::trace::SpanKind::Internal,
            name: "test".into(),
            start_time: std::time::SystemTime::UNIX_EPOCH,
            end_time: std::time::SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: opentelemetry::trace::Status::Unset,
            instrumentation_scope: opentelemetry::InstrumentationScope::default(),
        }
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_full_queue_drops_and_counts_spans_instead_of_waiting() {
        let exporter = Recording::default();
        let queue = SpanQueue::start(exporter.clone(), 2);
        let before = dropped_spans();
        // The task has not run yet (one thread): the queue takes two spans,
        // the third is dropped at once, and an unsampled one is not queued.
        for _ in 0..3 {
            queue.on_end(finished(true));
        }
        queue.on_end(finished(false));
        assert_eq!(dropped_spans() - before, 1);
        exporter.gate.notify_one();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(*exporter.batches.lock().expect("lock"), [2]);
    }
}
