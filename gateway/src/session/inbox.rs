//! What transports hand a connection: a short queue of [`Inbound`] chunks with one sender (the
//! connection's [`Link`](super::Link)) and one receiver (the connection's task).
//!
//! It holds no memory while empty, which is nearly always: a connection is idle most of its
//! life. tokio's `mpsc` channel allocated a block of 32 slots (~1.3 KB) per connection up front
//! and kept it for the channel's life, about a seventh of an idle WebSocket connection. Here the
//! chunks wait in a `VecDeque` that allocates when a chunk arrives and is given back once the
//! connection took everything.
//!
//! Bounded by chunks: a sender waits for a free slot (backpressure on POSTs and socket reads
//! rather than unbounded memory).

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

use bytes::Bytes;
use tokio::sync::{Notify, Semaphore};

/// What a transport hands to a connection, in order.
#[derive(Debug)]
pub enum Inbound {
    /// Bytes as received; record boundaries are not preserved and not assumed.
    Data(Bytes),
    /// A new socket replaced a dropped one (stateful reconnect): a partial record left by the old
    /// socket is void, and the client's `Sequence` comes next.
    Reattached,
    /// The transport refused a message larger than `limit` bytes before it could be fed in; the
    /// connection closes and says why.
    Oversized { limit: usize },
}

/// The connection ended: it takes nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

#[derive(Debug)]
struct Shared {
    /// Chunks not taken yet, oldest first.
    chunks: Mutex<VecDeque<Inbound>>,
    /// Free places in `chunks`: a sender takes one before queueing, the receiver gives it back
    /// when it takes the chunk. Closed when the receiver is gone, which wakes waiting senders.
    slots: Semaphore,
    /// Wakes the receiver when a chunk is queued or the sender is gone.
    ready: Notify,
    /// The sender is gone: the receiver ends once it took what was queued.
    sender_gone: AtomicBool,
    /// The receiver is gone: sends fail.
    receiver_gone: AtomicBool,
}

impl Shared {
    fn chunks(&self) -> MutexGuard<'_, VecDeque<Inbound>> {
        self.chunks.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The transports' end, held by the link.
#[derive(Debug)]
pub(super) struct InboxSender {
    shared: Arc<Shared>,
}

/// The connection's end.
#[derive(Debug)]
pub(super) struct InboxReceiver {
    shared: Arc<Shared>,
}

/// A queue holding at most `capacity` chunks.
pub(super) fn inbox(capacity: usize) -> (InboxSender, InboxReceiver) {
    let shared = Arc::new(Shared {
        chunks: Mutex::default(),
        slots: Semaphore::new(capacity),
        ready: Notify::new(),
        sender_gone: AtomicBool::new(false),
        receiver_gone: AtomicBool::new(false),
    });
    (
        InboxSender {
            shared: shared.clone(),
        },
        InboxReceiver { shared },
    )
}

impl InboxSender {
    /// Queues `chunk`, waiting while the queue is full.
    pub(super) async fn send(&self, chunk: Inbound) -> Result<(), Gone> {
        let slot = self.shared.slots.acquire().await.map_err(|_| Gone)?;
        slot.forget();
        self.queue(chunk)
    }

    /// Queues `chunk` if a place is free, without waiting; false when none is or the receiver
    /// is gone.
    pub(super) fn try_send(&self, chunk: Inbound) -> bool {
        let Ok(slot) = self.shared.slots.try_acquire() else {
            return false;
        };
        slot.forget();
        self.queue(chunk).is_ok()
    }

    fn queue(&self, chunk: Inbound) -> Result<(), Gone> {
        {
            let mut chunks = self.shared.chunks();
            if self.shared.receiver_gone.load(Ordering::Acquire) {
                return Err(Gone);
            }
            chunks.push_back(chunk);
        }
        self.shared.ready.notify_one();
        Ok(())
    }
}

impl Drop for InboxSender {
    fn drop(&mut self) {
        self.shared.sender_gone.store(true, Ordering::Release);
        self.shared.ready.notify_one();
    }
}

impl InboxReceiver {
    /// The next chunk, waiting for one; `None` once the sender is gone and everything it queued
    /// was taken. Cancel-safe: a chunk is only taken when this returns it.
    pub(super) async fn recv(&mut self) -> Option<Inbound> {
        loop {
            if let Some(chunk) = self.try_recv() {
                return Some(chunk);
            }
            if self.shared.sender_gone.load(Ordering::Acquire) {
                // A chunk queued just before the sender went is still taken.
                return self.try_recv();
            }
            // A chunk queued since `try_recv` left a permit, so this does not miss it.
            self.shared.ready.notified().await;
        }
    }

    /// Takes the oldest chunk; an emptied queue gives its memory back.
    fn try_recv(&mut self) -> Option<Inbound> {
        let chunk = {
            let mut chunks = self.shared.chunks();
            let chunk = chunks.pop_front()?;
            if chunks.is_empty() {
                *chunks = VecDeque::new();
            }
            chunk
        };
        self.shared.slots.add_permits(1);
        Some(chunk)
    }
}

impl Drop for InboxReceiver {
    /// Nobody reads anymore: sends fail, waiting senders are woken, what waits is freed.
    fn drop(&mut self) {
        let mut chunks = self.shared.chunks();
        self.shared.receiver_gone.store(true, Ordering::Release);
        self.shared.slots.close();
        *chunks = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn data(text: &'static str) -> Inbound {
        Inbound::Data(Bytes::from_static(text.as_bytes()))
    }

    fn text(chunk: Option<Inbound>) -> Option<Bytes> {
        match chunk {
            Some(Inbound::Data(bytes)) => Some(bytes),
            other => panic!("expected data, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn chunks_arrive_in_order_and_the_emptied_queue_gives_its_memory_back() {
        let (tx, mut rx) = inbox(4);
        tx.send(data("a")).await.expect("queued");
        tx.send(data("b")).await.expect("queued");
        assert_eq!(text(rx.recv().await).as_deref(), Some(&b"a"[..]));
        assert_eq!(text(rx.recv().await).as_deref(), Some(&b"b"[..]));
        assert_eq!(rx.shared.chunks().capacity(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_sender_wait_until_a_chunk_is_taken() {
        let (tx, mut rx) = inbox(1);
        assert!(tx.try_send(data("a")), "a free place");
        assert!(!tx.try_send(data("b")), "full");
        let tx = Arc::new(tx);
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(data("b")).await }
        });
        assert_eq!(text(rx.recv().await).as_deref(), Some(&b"a"[..]));
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the sender got the freed place")
            .expect("task")
            .expect("queued");
        assert_eq!(text(rx.recv().await).as_deref(), Some(&b"b"[..]));
    }

    #[tokio::test]
    async fn the_receiver_ends_after_the_last_chunk_once_the_sender_is_gone() {
        let (tx, mut rx) = inbox(4);
        let waiting = tokio::spawn(async move {
            let first = text(rx.recv().await);
            (first, rx.recv().await.is_none())
        });
        tx.send(data("a")).await.expect("queued");
        drop(tx);
        let (first, ended) = waiting.await.expect("task");
        assert_eq!(first.as_deref(), Some(&b"a"[..]));
        assert!(ended);
    }

    #[tokio::test]
    async fn sends_fail_once_the_receiver_is_gone_even_for_a_waiting_sender() {
        let (tx, rx) = inbox(1);
        tx.send(data("a")).await.expect("queued");
        let tx = Arc::new(tx);
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(data("b")).await }
        });
        drop(rx);
        let refused = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the waiting sender was woken")
            .expect("task");
        assert_eq!(refused, Err(Gone));
        assert!(!tx.try_send(data("c")));
    }
}
