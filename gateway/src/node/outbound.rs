//! The per-connection outgoing queue.
//!
//! Frames are encoded once per event and protocol and shared (`Bytes` is
//! reference-counted), so queueing one for a thousand connections copies
//! nothing. The queue is bounded by bytes, not by count: a client that does not
//! read fills its budget and is disconnected (with reconnect allowed) instead
//! of slowing down the fan-out or growing memory without bound. The oldest
//! frame waits in a slot inside the queue, so a writer that keeps up (one frame
//! at a time, the usual case) never allocates; frames behind it go to a buffer
//! that is given back once the writer emptied it. A writer takes every frame of
//! a write under one lock (see [`OutboundReceiver::try_recv_into`]).

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, OnceLock,
    },
};

use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::{metrics::Counters, Frame, Occurred};

/// Why the outgoing side of a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The client stopped reading and its queue is over budget.
    QueueFull,
    /// The connection is already closing.
    Closed,
}

/// A frame in the queue; `last` marks the connection's final frame, the one that survives an
/// overflow.
#[derive(Debug)]
struct Queued {
    frame: Frame,
    last: bool,
}

/// Most frames a new buffer is made room for at once (see [`Frames::last_capacity`]).
const BUFFER_HINT_MAX: usize = 64;

/// Frames not yet taken by the writer.
#[derive(Debug, Default)]
struct Frames {
    /// The oldest, unless it is in `behind` (only while `behind` has frames).
    first: Option<Queued>,
    /// The rest, oldest first; unallocated while empty.
    behind: VecDeque<Queued>,
    /// The capacity of the buffer given back last (at most [`BUFFER_HINT_MAX`]): a client that
    /// gets bursts (a write delay, a busy writer) has the next buffer made that large at once
    /// instead of grown (and copied) step by step for every write.
    last_capacity: usize,
}

impl Frames {
    fn push(&mut self, queued: Queued) {
        if self.first.is_none() && self.behind.is_empty() {
            self.first = Some(queued);
        } else {
            if self.behind.capacity() == 0 {
                self.behind.reserve_exact(self.last_capacity);
            }
            self.behind.push_back(queued);
        }
    }

    /// Takes the oldest frame; an emptied buffer gives its memory back.
    fn pop(&mut self) -> Option<Queued> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        let queued = self.behind.pop_front();
        if self.behind.is_empty() && self.behind.capacity() > 0 {
            self.last_capacity = self.behind.capacity().min(BUFFER_HINT_MAX);
            self.behind = VecDeque::new();
        }
        queued
    }

    /// Drops every frame and the buffer.
    fn clear(&mut self) {
        *self = Self::default();
    }
}

/// What both halves of a queue share.
#[derive(Debug, Default)]
struct Shared {
    /// Frames not yet taken by the writer, oldest first.
    frames: Mutex<Frames>,
    /// Wakes the writer when a frame is queued or the last sender is gone.
    ready: Notify,
    /// Senders alive; the writer's `recv` ends once none is left and the queue is empty.
    senders: AtomicUsize,
    /// The receiver is gone: sends are refused.
    closed: AtomicBool,
    /// Bytes queued and not yet taken by the writer.
    queued: AtomicUsize,
    /// Set by the first refused send, so the overflow is counted once.
    overflowed: AtomicBool,
    /// Cancelled with `overflowed`, for the connection's owner to wait on.
    overflow: CancellationToken,
    /// The node's counters, set when the connection starts (SignalR) or first joins a group
    /// (gRPC streams).
    counters: OnceLock<Arc<Counters>>,
}

impl Shared {
    fn frames(&self) -> MutexGuard<'_, Frames> {
        self.frames.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a frame unless the receiver is gone.
    fn push(&self, queued: Queued) -> Result<(), Overflow> {
        {
            let mut frames = self.frames();
            if self.closed.load(Ordering::Acquire) {
                return Err(Overflow::Closed);
            }
            frames.push(queued);
        }
        self.ready.notify_one();
        Ok(())
    }

    /// Marks the queue overflowed; the first time, the node (if the connection is a member)
    /// counts a slow consumer.
    fn overflow(&self) {
        if !self.overflowed.swap(true, Ordering::AcqRel) {
            if let Some(counters) = self.counters.get() {
                counters.slow_consumer();
            }
        }
        self.overflow.cancel();
    }
}

/// The sending half, cloned into every group the connection joins.
#[derive(Debug)]
pub struct Outbound {
    shared: Arc<Shared>,
    limit: usize,
}

impl Clone for Outbound {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        Self {
            shared: self.shared.clone(),
            limit: self.limit,
        }
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.ready.notify_one();
        }
    }
}

/// How much one take from the queue may carry: it stops after `frames` frames, or once `bytes`
/// are taken (the frame that crosses the mark is still taken, so a frame larger than the room
/// goes alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    pub frames: usize,
    pub bytes: usize,
}

impl Room {
    /// Everything queued.
    pub const ALL: Self = Self::up_to(usize::MAX);
    /// The oldest frame.
    pub const ONE: Self = Self {
        frames: 1,
        bytes: usize::MAX,
    };

    /// Any number of frames, until `bytes` are taken.
    pub const fn up_to(bytes: usize) -> Self {
        Self {
            frames: usize::MAX,
            bytes,
        }
    }
}

/// The receiving half, owned by the connection's writer.
#[derive(Debug)]
pub struct OutboundReceiver {
    shared: Arc<Shared>,
    /// The oldest event among the frames taken since the writer last reported a write (see
    /// [`OutboundReceiver::written`]).
    unwritten: Option<Occurred>,
}

impl Drop for OutboundReceiver {
    /// Nobody writes anymore: later sends are refused and what waits is freed.
    fn drop(&mut self) {
        let mut frames = self.shared.frames();
        self.shared.closed.store(true, Ordering::Release);
        frames.clear();
        self.shared.queued.store(0, Ordering::Release);
    }
}

/// Accounts for a frame leaving the queue; after an overflow only the last frame is written.
fn take(shared: &Shared, queued: Queued) -> Option<Frame> {
    shared
        .queued
        .fetch_sub(queued.frame.len(), Ordering::AcqRel);
    let discard = !queued.last && shared.overflowed.load(Ordering::Acquire);
    (!discard).then_some(queued.frame)
}

/// A queue that holds at most `limit_bytes` of frames not yet written.
pub fn outbound(limit_bytes: usize) -> (Outbound, OutboundReceiver) {
    let shared = Arc::new(Shared {
        senders: AtomicUsize::new(1),
        ..Shared::default()
    });
    (
        Outbound {
            shared: shared.clone(),
            limit: limit_bytes,
        },
        OutboundReceiver {
            shared,
            unwritten: None,
        },
    )
}

impl Outbound {
    /// Queues a frame without waiting. Over budget, the frame is dropped and
    /// the connection is marked overflowed: its owner closes it and the client
    /// reconnects and resumes, so the drop never becomes a silent gap (nothing
    /// queued after it is delivered, see the module doc).
    pub fn send(&self, frame: Frame) -> Result<(), Overflow> {
        if self.shared.overflowed.load(Ordering::Acquire) {
            return Err(Overflow::QueueFull);
        }
        let queued = &self.shared.queued;
        let size = frame.len();
        let before = queued.fetch_add(size, Ordering::AcqRel);
        if before.saturating_add(size) > self.limit && before > 0 {
            queued.fetch_sub(size, Ordering::AcqRel);
            self.shared.overflow();
            return Err(Overflow::QueueFull);
        }
        self.shared
            .push(Queued { frame, last: false })
            .inspect_err(|_| {
                queued.fetch_sub(size, Ordering::AcqRel);
            })
    }

    /// Has the node's `counters` count this queue's overflow (the first call wins; a connection
    /// joins only one node).
    pub(super) fn meter(&self, counters: &Arc<Counters>) {
        let _ = self.shared.counters.set(counters.clone());
    }

    /// Identifies the queue: the same for every clone of this sender.
    pub(super) fn queue_id(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// Bytes queued and not yet taken by the writer.
    pub(super) fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Queues the last frame of a connection (its Close) regardless of the
    /// budget: it is small, and the client should learn why it was closed.
    pub fn send_final(&self, frame: Frame) {
        let size = frame.len();
        self.shared.queued.fetch_add(size, Ordering::AcqRel);
        if self.shared.push(Queued { frame, last: true }).is_err() {
            self.shared.queued.fetch_sub(size, Ordering::AcqRel);
        }
    }

    /// Completes when a send was refused for lack of budget, or the writer found the client
    /// not reading (see [`OutboundReceiver::stalled`]).
    pub fn overflowed(&self) -> WaitForCancellationFuture<'_> {
        self.shared.overflow.cancelled()
    }
}

impl OutboundReceiver {
    /// The next frame to write; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Frame> {
        // Right after a write the queue is usually empty, which its byte count tells without
        // taking the lock. A frame without bytes is not counted there, but its sender's wake-up
        // brings this to the lock all the same.
        let mut look = self.holds_bytes();
        loop {
            if look {
                if let Some(frame) = self.try_recv() {
                    return Some(frame);
                }
            }
            if self.shared.senders.load(Ordering::Acquire) == 0 {
                // A frame queued by the last sender before it went is still taken.
                return self.try_recv();
            }
            // A frame queued since the last look left a permit, so this does not miss it.
            self.shared.ready.notified().await;
            look = true;
        }
    }

    /// Whether queued frames hold any bytes, read without the queue's lock: false means
    /// nothing is queued but frames without bytes. A frame being queued meanwhile wakes the
    /// writer's next wait.
    pub fn holds_bytes(&self) -> bool {
        self.shared.queued.load(Ordering::Acquire) > 0
    }

    /// The oldest frame queued, without waiting.
    fn try_recv(&mut self) -> Option<Frame> {
        let mut taken = None;
        self.try_recv_into(Room::ONE, |frame| taken = Some(frame));
        taken
    }

    /// The frames already queued that fit in `room`, oldest first and without waiting, each
    /// handed to `each`: a writer gathers a whole write under one lock instead of one per frame
    /// (transports batch the frames that follow a write's first one with it). `each` runs under
    /// the queue's lock, so it must not send to this queue.
    pub fn try_recv_into(&mut self, room: Room, mut each: impl FnMut(Frame)) {
        let mut frames = self.shared.frames();
        let (mut count, mut bytes) = (0, 0);
        while count < room.frames && bytes < room.bytes {
            let Some(queued) = frames.pop() else {
                break;
            };
            let Some(frame) = take(&self.shared, queued) else {
                continue;
            };
            if let Some(occurred) = frame.occurred() {
                self.unwritten = Some(self.unwritten.map_or(occurred, |o| o.min(occurred)));
            }
            count += 1;
            bytes = bytes.saturating_add(frame.len());
            each(frame);
        }
    }

    /// The writer wrote (and flushed) every frame it took so far: the node times the push of the
    /// oldest event among them, once for the whole write. A write without events is not timed.
    pub fn written(&mut self) {
        if let (Some(occurred), Some(counters)) =
            (self.unwritten.take(), self.shared.counters.get())
        {
            counters.written(occurred);
        }
    }

    /// The writer could not hand the client anything for its stall timeout: the client does
    /// not read, which is the same as overflowing (counted, closed with the slow-consumer
    /// reason) except that no budget was exceeded yet.
    pub fn stalled(&self) {
        self.shared.overflow();
    }

    /// Bytes queued and not yet taken by the writer.
    #[cfg(test)]
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn text(n: usize) -> Frame {
        Frame::text(Bytes::from(vec![b'x'; n]))
    }

    #[tokio::test]
    async fn frames_within_budget_are_delivered_in_order() {
        let (tx, mut rx) = outbound(100);
        tx.send(Frame::text(Bytes::from_static(b"a")))
            .expect("fits");
        tx.send(Frame::text(Bytes::from_static(b"b")))
            .expect("fits");
        assert_eq!(rx.recv().await, Some(Frame::text(Bytes::from_static(b"a"))));
        assert_eq!(rx.recv().await, Some(Frame::text(Bytes::from_static(b"b"))));
        assert_eq!(rx.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_overflows_instead_of_growing() {
        let (tx, rx) = outbound(100);
        for _ in 0..10 {
            tx.send(text(10)).expect("fits");
        }
        assert_eq!(tx.send(text(10)), Err(Overflow::QueueFull));
        assert_eq!(rx.queued_bytes(), 100);
        // Once overflowed, the connection takes nothing more.
        tx.overflowed().await;
        assert_eq!(tx.send(text(1)), Err(Overflow::QueueFull));
    }

    #[tokio::test]
    async fn one_frame_larger_than_the_budget_still_goes_to_an_idle_client() {
        let (tx, mut rx) = outbound(10);
        tx.send(text(50))
            .expect("an empty queue takes any single frame");
        assert_eq!(rx.recv().await.map(|f| f.len()), Some(50));
    }

    #[tokio::test]
    async fn queued_frames_can_be_taken_without_waiting() {
        let (tx, mut rx) = outbound(100);
        assert_eq!(rx.try_recv(), None);
        tx.send(text(3)).expect("fits");
        assert_eq!(rx.try_recv().map(|f| f.len()), Some(3));
        assert_eq!(rx.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn after_an_overflow_only_the_last_frame_follows_what_was_taken() {
        let (tx, mut rx) = outbound(100);
        for size in [30, 31, 32] {
            tx.send(text(size)).expect("fits");
        }
        assert_eq!(rx.recv().await.map(|f| f.len()), Some(30), "taken before");
        tx.send(text(30)).expect("fits after the writer took one");
        assert_eq!(tx.send(text(60)), Err(Overflow::QueueFull));
        tx.send_final(text(7));
        assert_eq!(rx.recv().await.map(|f| f.len()), Some(7));
        assert_eq!(rx.try_recv(), None);
        assert_eq!(rx.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn a_stalled_writer_closes_like_an_overflow() {
        let (tx, mut rx) = outbound(100);
        tx.send(text(10)).expect("fits");
        rx.stalled();
        tx.overflowed().await;
        assert_eq!(tx.send(text(1)), Err(Overflow::QueueFull));
        tx.send_final(text(3));
        assert_eq!(rx.try_recv().map(|f| f.len()), Some(3));
    }

    #[tokio::test]
    async fn the_receiver_ends_once_every_sender_is_gone_and_the_queue_is_empty() {
        let (tx, mut rx) = outbound(100);
        let other = tx.clone();
        tx.send(text(1)).expect("fits");
        drop(tx);
        let waiting = tokio::spawn(async move {
            let first = rx.recv().await.map(|f| f.len());
            let second = rx.recv().await.map(|f| f.len());
            let end = rx.recv().await;
            (first, second, end)
        });
        other.send(text(2)).expect("fits");
        drop(other);
        let (first, second, end) = waiting.await.expect("ends");
        assert_eq!((first, second, end), (Some(1), Some(2), None));
    }

    #[tokio::test]
    async fn an_emptied_queue_gives_its_memory_back() {
        let (tx, mut rx) = outbound(1000);
        for _ in 0..10 {
            tx.send(text(1)).expect("fits");
        }
        while rx.try_recv().is_some() {}
        assert_eq!(rx.shared.frames().behind.capacity(), 0);
    }

    #[tokio::test]
    async fn a_burst_after_a_burst_gets_its_buffer_in_one_allocation() {
        let (tx, mut rx) = outbound(100_000);
        for _ in 0..20 {
            tx.send(text(1)).expect("fits");
        }
        rx.try_recv_into(Room::ALL, drop);
        assert_eq!(rx.shared.frames().behind.capacity(), 0, "given back");
        tx.send(text(1)).expect("fits");
        tx.send(text(1)).expect("fits");
        assert!(
            rx.shared.frames().behind.capacity() >= 19,
            "as large as the last"
        );
        rx.try_recv_into(Room::ALL, drop);
        for _ in 0..1000 {
            tx.send(text(1)).expect("fits");
        }
        rx.try_recv_into(Room::ALL, drop);
        tx.send(text(1)).expect("fits");
        tx.send(text(1)).expect("fits");
        let capacity = rx.shared.frames().behind.capacity();
        assert!(
            capacity <= 2 * BUFFER_HINT_MAX,
            "a huge burst is not made room for: {capacity}"
        );
    }

    #[tokio::test]
    async fn a_frame_without_bytes_is_received_like_any_other() {
        let (tx, mut rx) = outbound(100);
        tx.send(text(0)).expect("fits");
        assert!(!rx.holds_bytes());
        let received = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await;
        assert_eq!(
            received.expect("in time").map(|f| f.len()),
            Some(0),
            "queued before the wait"
        );
        let waiting = tokio::spawn(async move { rx.recv().await.map(|f| f.len()) });
        tokio::task::yield_now().await;
        tx.send(text(0)).expect("fits");
        let received = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
        assert_eq!(
            received.expect("in time").expect("receives"),
            Some(0),
            "queued during the wait"
        );
    }

    #[tokio::test]
    async fn a_take_stops_at_its_room() {
        let (tx, mut rx) = outbound(1000);
        for size in [10, 20, 30, 40, 50] {
            tx.send(text(size)).expect("fits");
        }
        let mut taken = Vec::new();
        rx.try_recv_into(
            Room {
                frames: 2,
                bytes: usize::MAX,
            },
            |f| taken.push(f.len()),
        );
        assert_eq!(taken, [10, 20], "two frames");
        rx.try_recv_into(
            Room {
                frames: 9,
                bytes: 31,
            },
            |f| taken.push(f.len()),
        );
        assert_eq!(
            taken,
            [10, 20, 30, 40],
            "the frame that crosses the bytes is taken"
        );
        rx.try_recv_into(
            Room {
                frames: 9,
                bytes: 0,
            },
            |f| taken.push(f.len()),
        );
        assert_eq!(taken.len(), 4, "no room, nothing taken");
        rx.try_recv_into(Room::ALL, |f| taken.push(f.len()));
        assert_eq!(taken, [10, 20, 30, 40, 50]);
        assert_eq!(rx.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn frames_keep_their_order_across_the_slot_and_the_buffer() {
        let (tx, mut rx) = outbound(1000);
        let mut taken = Vec::new();
        tx.send(text(1)).expect("fits");
        tx.send(text(2)).expect("fits");
        taken.extend(rx.try_recv().map(|f| f.len()));
        tx.send(text(3)).expect("fits");
        taken.extend(rx.try_recv().map(|f| f.len()));
        tx.send(text(4)).expect("fits");
        while let Some(frame) = rx.try_recv() {
            taken.push(frame.len());
        }
        tx.send(text(5)).expect("fits");
        taken.extend(rx.try_recv().map(|f| f.len()));
        assert_eq!(taken, [1, 2, 3, 4, 5]);
        let frames = rx.shared.frames();
        assert!(frames.first.is_none() && frames.behind.capacity() == 0);
    }

    #[tokio::test]
    async fn a_push_is_timed_once_per_write_that_carried_events_after_it_was_written() {
        let counters = Arc::new(Counters::default());
        let (tx, mut rx) = outbound(1000);
        tx.meter(&counters);
        let occurred = Occurred::parse(&chrono::Utc::now().to_rfc3339());
        assert!(occurred.is_some());
        for frame in [
            text(3).stamped(occurred),
            text(4),
            text(5).stamped(occurred),
        ] {
            tx.send(frame).expect("fits");
        }
        assert_eq!(counters.pushes_timed(), 0, "queued is not written");
        while rx.try_recv().is_some() {}
        assert_eq!(counters.pushes_timed(), 0, "taken is not written");
        rx.written();
        assert_eq!(counters.pushes_timed(), 1, "one write, however many events");
        rx.written();
        assert_eq!(counters.pushes_timed(), 1, "nothing taken since");
        tx.send(text(6)).expect("fits");
        assert_eq!(rx.try_recv().map(|f| f.len()), Some(6));
        rx.written();
        assert_eq!(counters.pushes_timed(), 1, "a write without events");
    }

    #[tokio::test]
    async fn sending_after_the_receiver_is_gone_reports_closed() {
        let (tx, rx) = outbound(10);
        drop(rx);
        assert_eq!(tx.send(text(1)), Err(Overflow::Closed));
    }
}
