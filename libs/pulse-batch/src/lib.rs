//! Calls coalesced into batches: the calls of one kind that arrive while a
//! batch is being served wait and go together in the next one — for a
//! database, one transaction and one commit for all of them instead of one
//! each. Nothing waits for a timer: a lone call goes at once, and under a
//! crowd (10,000 connections joining one list, 32 writers adding items)
//! batches grow by themselves. Each caller still gets its own outcome; a
//! batch refused as a whole is retried one call at a time, so one bad call
//! never fails the others.
//!
//! Used for presence (`pulse-presence`, both services) and for the
//! shopping-list service's `AddItem`s: implement [`Calls`] for the kind of
//! call and keep a [`Coalescer`].
//!
//! A batch runs in a span of its own, a child of its first caller's span and
//! linked to every other caller's: the trace of the first call shows the
//! transaction its events were written in (and where they went from there),
//! and the others point at it.

use std::{fmt::Display, future::Future, pin::Pin, sync::Arc};

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// Calls per batch at most.
pub const BATCH_MAX: usize = 512;
/// Calls waiting at most; callers beyond it wait to be queued.
pub const QUEUE_MAX: usize = 16_384;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One kind of call, done for many at once and for one.
pub trait Calls: Send + Sync + 'static {
    type Call: Send + Sync + 'static;
    type Output: Send + 'static;
    type Error: Display + Send + 'static;

    /// Every call of the batch in one go: an outcome per call, in order; an
    /// error only when the batch as a whole was refused.
    fn together(&self, calls: Arc<Vec<Self::Call>>) -> BoxFuture<Outcomes<Self>>;

    /// The call at `index` alone, after its batch was refused.
    fn alone(
        &self,
        calls: Arc<Vec<Self::Call>>,
        index: usize,
    ) -> BoxFuture<Result<Self::Output, Self::Error>>;

    /// What a caller is told when the queue's worker is gone (the service is
    /// stopping).
    fn stopped(&self) -> Self::Error;
}

/// A batch's outcome per call, or why the batch as a whole was refused.
pub type Batch<T, E> = Result<Vec<Result<T, E>>, E>;

/// The outcome of a batch of one call (`stopped` if the batch gave none): how
/// [`Calls::alone`] is served by the code that serves a whole batch.
pub fn only<T, E>(batch: Batch<T, E>, stopped: impl FnOnce() -> E) -> Result<T, E> {
    batch?.into_iter().next().unwrap_or_else(|| Err(stopped()))
}

/// A batch's outcomes, or why the batch as a whole was refused.
pub type Outcomes<C> = Batch<<C as Calls>::Output, <C as Calls>::Error>;

struct Job<C: Calls> {
    call: C::Call,
    reply: oneshot::Sender<Result<C::Output, C::Error>>,
    /// The caller's span, which its batch continues.
    span: tracing::Span,
}

/// The queue of one kind of call; cheap to clone. Its worker ends when the
/// last clone is gone.
pub struct Coalescer<C: Calls> {
    jobs: mpsc::Sender<Job<C>>,
    calls: Arc<C>,
}

impl<C: Calls> Clone for Coalescer<C> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            calls: self.calls.clone(),
        }
    }
}

impl<C: Calls> std::fmt::Debug for Coalescer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer")
            .field("waiting", &(QUEUE_MAX - self.jobs.capacity()))
            .finish()
    }
}

impl<C: Calls> Coalescer<C> {
    /// Starts the worker.
    pub fn start(calls: C) -> Self {
        let calls = Arc::new(calls);
        let (jobs, queue) = mpsc::channel(QUEUE_MAX);
        tokio::spawn(work(calls.clone(), queue));
        Self { jobs, calls }
    }

    /// Queues the call and waits for its outcome.
    pub async fn call(&self, call: C::Call) -> Result<C::Output, C::Error> {
        let (reply, outcome) = oneshot::channel();
        let span = tracing::Span::current();
        if self.jobs.send(Job { call, reply, span }).await.is_err() {
            return Err(self.calls.stopped());
        }
        match outcome.await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.calls.stopped()),
        }
    }
}

async fn work<C: Calls>(calls: Arc<C>, mut queue: mpsc::Receiver<Job<C>>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH_MAX {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut calls_of_batch = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut spans = Vec::with_capacity(batch.len());
        for job in batch {
            calls_of_batch.push(job.call);
            replies.push(job.reply);
            spans.push(job.span);
        }
        let batch = Arc::new(calls_of_batch);
        let span = tracing::info_span!(parent: &spans[0], "batch", calls = batch.len());
        for caller in &spans[1..] {
            span.follows_from(caller);
        }
        match calls.together(batch.clone()).instrument(span).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The caller may have gone (its request was cancelled).
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::debug!(%error, calls = batch.len(), "batch refused; one call at a time");
                for (index, (reply, span)) in replies.into_iter().zip(spans).enumerate() {
                    let alone = calls.alone(batch.clone(), index).instrument(span).await;
                    let _ = reply.send(alone);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Doubles numbers; a batch holding 0 is refused as a whole, and 0 alone
    /// fails. Records the batch sizes.
    #[derive(Default)]
    struct Doubling {
        batches: Arc<Mutex<Vec<usize>>>,
    }

    impl Calls for Doubling {
        type Call = u32;
        type Output = u32;
        type Error = String;

        fn together(&self, calls: Arc<Vec<u32>>) -> BoxFuture<Outcomes<Self>> {
            let batches = self.batches.clone();
            Box::pin(async move {
                batches.lock().expect("lock").push(calls.len());
                if calls.contains(&0) {
                    return Err("refused".to_owned());
                }
                Ok(calls.iter().map(|n| Ok(n * 2)).collect())
            })
        }

        fn alone(&self, calls: Arc<Vec<u32>>, index: usize) -> BoxFuture<Result<u32, String>> {
            Box::pin(async move {
                match calls[index] {
                    0 => Err("zero".to_owned()),
                    n => Ok(n * 2),
                }
            })
        }

        fn stopped(&self) -> String {
            "stopped".to_owned()
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn calls_made_together_share_a_batch_and_each_gets_its_own_outcome() {
        let doubling = Doubling::default();
        let batches = doubling.batches.clone();
        let queue = Coalescer::start(doubling);
        let outcomes: Vec<_> = call_all(&queue, &[1, 2, 3]).await;
        assert_eq!(outcomes, [Ok(2), Ok(4), Ok(6)]);
        let refused = call_all(&queue, &[5, 0, 7]).await;
        assert_eq!(refused, [Ok(10), Err("zero".to_owned()), Ok(14)]);
        assert_eq!(*batches.lock().expect("lock"), [3, 3]);
    }

    /// Queues every call before the worker runs (one thread), then awaits
    /// them all.
    async fn call_all(queue: &Coalescer<Doubling>, numbers: &[u32]) -> Vec<Result<u32, String>> {
        let handles: Vec<_> = numbers
            .iter()
            .map(|&n| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.call(n).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for handle in handles {
            outcomes.push(handle.await.expect("joined"));
        }
        outcomes
    }
}
