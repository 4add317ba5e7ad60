//! The handle transports hold on a running connection.
//!
//! A connection runs as its own task from the first transport request to its end. Transports
//! come and go around it: a WebSocket (replaced by another on a stateful reattach), an SSE stream
//! plus POSTs, or a series of long polls plus POSTs. Each of them feeds the connection's bytes in
//! through [`Link::push`] and writes what [`Link::frames`] yields; only one holds the frames at a
//! time, and a newcomer takes its [`Turn`] from the previous holder.

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures::FutureExt;
use tokio::sync::OwnedMutexGuard;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    inbox::{inbox, Inbound, InboxSender},
    run_connection,
    signal::{Raised, Signal},
    Connection, Replay,
};
use crate::node::{outbound, Frame, OutboundReceiver, Room};

/// Chunks of input waiting for a busy connection; senders wait beyond this (backpressure on
/// POSTs and socket reads rather than unbounded memory).
const INBOUND_CHUNKS: usize = 8;

/// Where a transport takes the frames to write.
#[derive(Debug)]
pub struct FrameSource {
    queue: OutboundReceiver,
    replay: Option<Arc<Replay>>,
    /// See [`FrameSource::linger`].
    write_delay: Duration,
}

impl FrameSource {
    /// The next frame, waiting for one. On a stateful connection it is first kept for replay,
    /// and while the replay buffer is full this waits for the client's Ack.
    pub async fn next(&mut self) -> Option<Frame> {
        if let Some(replay) = &self.replay {
            replay.room().await;
        }
        let frame = self.queue.recv().await?;
        if let Some(replay) = &self.replay {
            replay.record(&frame);
        }
        Some(frame)
    }

    /// Waits the connection's write delay (see `SessionConfig::write_delay`): a transport calls
    /// it between the first frame of a write and taking what else is queued, so frames that
    /// arrive meanwhile join the write. Kept apart from [`FrameSource::next`], which stays
    /// cancel-safe inside a `select!`.
    pub async fn linger(&self) {
        if !self.write_delay.is_zero() {
            tokio::time::sleep(self.write_delay).await;
        }
    }

    /// What is queued behind a write's first frame, as [`FrameSource::take_queued`] takes it,
    /// but without the queue's lock when nothing is (the usual case while the writer keeps up);
    /// a frame without bytes then goes in the next write.
    pub fn take_following(&mut self, room: Room, each: impl FnMut(Frame)) {
        if self.queue.holds_bytes() {
            self.take_queued(room, each);
        }
    }

    /// The frames already queued that fit in `room`, without waiting, each handed to `each`
    /// (and first kept for replay on a stateful connection): what follows a write's first frame,
    /// or what a closing connection flushes, taken in one go (see
    /// `OutboundReceiver::try_recv_into`).
    pub fn take_queued(&mut self, room: Room, mut each: impl FnMut(Frame)) {
        let replay = self.replay.as_deref();
        self.queue.try_recv_into(room, |frame| {
            if let Some(replay) = replay {
                replay.record(&frame);
            }
            each(frame);
        });
    }

    /// Every frame taken so far has been written to the client: times the push of the oldest
    /// event among them (once per write, see `pulse_gateway_push_latency_seconds`).
    pub fn written(&mut self) {
        self.queue.written();
    }

    /// The client took nothing for the writer's stall timeout: the connection closes as a slow
    /// consumer, and nothing queued behind what was written goes out but its Close.
    pub fn stalled(&self) {
        self.queue.stalled();
    }

    /// What a socket replacing a dropped one writes first: `Sequence` and the unacknowledged
    /// frames.
    pub fn resume(&self) -> Vec<Frame> {
        self.replay
            .as_ref()
            .map(|replay| replay.resume())
            .unwrap_or_default()
    }
}

/// A transport's exclusive use of the frames: the socket or poll currently serving the client.
#[derive(Debug)]
pub struct Turn {
    generation: u64,
    /// Raised when a newer socket or poll takes over.
    pub superseded: Signal,
}

#[derive(Debug)]
struct Activity {
    generation: u64,
    current: Signal,
    /// Since when no transport serves the client (a long-polling client between polls, a stateful
    /// WebSocket that dropped); the reaper ends connections idle longer than the disconnect
    /// timeout.
    idle_since: Option<Instant>,
}

#[derive(Debug)]
struct Shared {
    inbound: InboxSender,
    frames: Arc<tokio::sync::Mutex<FrameSource>>,
    replay: Option<Arc<Replay>>,
    /// The client is gone for good; the connection ends without a Close message.
    terminate: CancellationToken,
    /// The connection finished; its last frames (the Close, if any) are queued.
    ended: Signal,
    activity: Mutex<Activity>,
    /// Held while a POST is fed in; a second concurrent one is refused (409, as .NET does).
    posting: Arc<tokio::sync::Mutex<()>>,
}

/// A running connection, as the transports see it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Link {
    shared: Arc<Shared>,
}

impl Link {
    /// Starts `connection` on `tracker`; `stateful` when negotiate agreed on stateful reconnect
    /// over a WebSocket (the handshake still has to ask for version 2); `early` is what the
    /// client sent before the transport request. `on_end` runs once the connection finished and
    /// its last frames are queued.
    pub fn start(
        connection: Connection,
        stateful: bool,
        early: Bytes,
        tracker: &TaskTracker,
        on_end: impl FnOnce() + Send + 'static,
    ) -> Self {
        let (queue, receiver) = outbound(connection.config.outgoing_queue_bytes);
        connection.services.node.meter(&queue);
        let (inbound, inbound_rx) = inbox(INBOUND_CHUNKS);
        if !early.is_empty() {
            // The queue is new and empty, so this cannot be refused.
            inbound.try_send(Inbound::Data(early));
        }
        let replay =
            stateful.then(|| Arc::new(Replay::new(connection.config.stateful_buffer_bytes)));
        let link = Self::new(
            inbound,
            receiver,
            replay.clone(),
            connection.config.write_delay,
        );
        let terminate = link.shared.terminate.clone();
        let ended = link.shared.ended.clone();
        // `map` rather than an `async` block that awaits it: the block would hold the connection
        // future twice, once captured and once being awaited.
        tracker.spawn(
            run_connection(connection, inbound_rx, terminate, queue, replay).map(move |()| {
                ended.raise();
                on_end();
            }),
        );
        link
    }

    fn new(
        inbound: InboxSender,
        queue: OutboundReceiver,
        replay: Option<Arc<Replay>>,
        write_delay: Duration,
    ) -> Self {
        let shared = Arc::new(Shared {
            inbound,
            frames: Arc::new(tokio::sync::Mutex::new(FrameSource {
                queue,
                replay: replay.clone(),
                write_delay,
            })),
            replay,
            terminate: CancellationToken::new(),
            ended: Signal::new(),
            activity: Mutex::new(Activity {
                generation: 0,
                current: Signal::new(),
                idle_since: None,
            }),
            posting: Arc::default(),
        });
        Self { shared }
    }

    /// A link with no connection behind it, for tests of what holds links; `stateful` links act
    /// as if the handshake enabled stateful reconnect.
    #[cfg(test)]
    pub fn unconnected(stateful: bool) -> Self {
        let (inbound, _) = inbox(1);
        let (_, queue) = outbound(1024);
        let replay = stateful.then(|| {
            let replay = Replay::new(1024);
            replay.enable(crate::protocol::Protocol::Json);
            Arc::new(replay)
        });
        Self::new(inbound, queue, replay, Duration::ZERO)
    }

    /// Whether the connection was told its client is gone.
    #[cfg(test)]
    pub fn is_terminated(&self) -> bool {
        self.shared.terminate.is_cancelled()
    }

    fn activity(&self) -> MutexGuard<'_, Activity> {
        self.shared
            .activity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Feeds received bytes in; false when the connection has ended.
    pub async fn push(&self, data: Bytes) -> bool {
        self.shared.inbound.send(Inbound::Data(data)).await.is_ok()
    }

    /// Tells the connection its client sent a message over the transport's `limit`; false when
    /// the connection has ended.
    pub async fn oversized(&self, limit: usize) -> bool {
        self.shared
            .inbound
            .send(Inbound::Oversized { limit })
            .await
            .is_ok()
    }

    /// Tells the connection a replacement socket took over (call while holding the frames, so
    /// nothing from the old socket can follow).
    pub async fn reattached(&self) -> bool {
        self.shared.inbound.send(Inbound::Reattached).await.is_ok()
    }

    /// The frames to write, once the previous holder let go.
    pub async fn frames(&self) -> OwnedMutexGuard<FrameSource> {
        self.shared.frames.clone().lock_owned().await
    }

    /// The client is gone for good.
    pub fn terminate(&self) {
        self.shared.terminate.cancel();
    }

    /// Completes when the connection finished.
    pub fn ended(&self) -> Raised<'_> {
        self.shared.ended.raised()
    }

    pub fn is_ended(&self) -> bool {
        self.shared.ended.is_raised()
    }

    /// Whether the handshake enabled stateful reconnect, so a dropped socket may be replaced.
    pub fn is_stateful(&self) -> bool {
        self.shared
            .replay
            .as_ref()
            .is_some_and(|replay| replay.is_enabled())
    }

    /// Makes the caller the one serving the client: the previous socket or poll is told to stop,
    /// and the connection is no longer idle.
    pub fn take_turn(&self) -> Turn {
        let mut activity = self.activity();
        activity.current.raise();
        activity.generation += 1;
        activity.current = Signal::new();
        activity.idle_since = None;
        Turn {
            generation: activity.generation,
            superseded: activity.current.clone(),
        }
    }

    /// The turn ended without a successor: the connection is idle from now on (unless a newer
    /// turn already began).
    pub fn release_turn(&self, turn: &Turn) {
        let mut activity = self.activity();
        if activity.generation == turn.generation {
            activity.idle_since = Some(Instant::now());
        }
    }

    /// How long no transport has served the client.
    pub fn idle_for(&self) -> Option<Duration> {
        self.activity().idle_since.map(|since| since.elapsed())
    }

    /// Exclusive right to feed a POST body in; `None` while another POST is being fed.
    pub fn try_post(&self) -> Option<OwnedMutexGuard<()>> {
        self.shared.posting.clone().try_lock_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Outbound;

    /// A frame source with a write delay, and the queue feeding it.
    fn source(write_delay: Duration) -> (Outbound, FrameSource) {
        let (queue, receiver) = outbound(1024);
        let frames = FrameSource {
            queue: receiver,
            replay: None,
            write_delay,
        };
        (queue, frames)
    }

    fn frame(text: &'static str) -> Frame {
        Frame::text(Bytes::from_static(text.as_bytes()))
    }

    /// What a transport writes at once: the first frame, then (after lingering) what is queued.
    async fn one_write(frames: &mut FrameSource) -> Vec<Frame> {
        let mut write = vec![frames.next().await.expect("a frame")];
        frames.linger().await;
        frames.take_following(Room::ALL, |frame| write.push(frame));
        write
    }

    #[tokio::test(start_paused = true)]
    async fn frames_queued_within_the_write_delay_join_the_first_frames_write() {
        let delay = Duration::from_millis(20);
        let (queue, mut frames) = source(delay);
        let writer = tokio::spawn(async move { (one_write(&mut frames).await, frames) });
        queue.send(frame("a")).expect("queued");
        tokio::time::advance(delay / 2).await;
        queue.send(frame("b")).expect("queued");
        let (write, mut frames) = writer.await.expect("writer");
        queue.send(frame("c")).expect("queued");
        assert_eq!(write, [frame("a"), frame("b")]);
        assert_eq!(one_write(&mut frames).await, [frame("c")], "the next write");
    }

    #[tokio::test]
    async fn a_frame_without_bytes_goes_in_the_next_write() {
        let (queue, mut frames) = source(Duration::ZERO);
        let in_time = Duration::from_secs(5);
        queue.send(frame("a")).expect("queued");
        queue.send(frame("")).expect("queued");
        let first = tokio::time::timeout(in_time, one_write(&mut frames)).await;
        assert_eq!(first.expect("in time"), [frame("a")]);
        let second = tokio::time::timeout(in_time, one_write(&mut frames)).await;
        assert_eq!(second.expect("in time"), [frame("")]);
        queue.send(frame("")).expect("queued");
        queue.send(frame("b")).expect("queued");
        let third = tokio::time::timeout(in_time, one_write(&mut frames)).await;
        assert_eq!(third.expect("in time"), [frame(""), frame("b")]);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_write_delay_the_first_frame_is_written_alone() {
        let (queue, mut frames) = source(Duration::ZERO);
        let writer = tokio::spawn(async move { (one_write(&mut frames).await, frames) });
        queue.send(frame("a")).expect("queued");
        let (write, _frames) = writer.await.expect("writer");
        queue.send(frame("b")).expect("queued");
        assert_eq!(write, [frame("a")]);
    }
}
