//! The WebSocket transport: JSON in text frames, MessagePack in binary frames.
//!
//! Each socket has a reader task that feeds what the client sends to the connection, and a
//! writer (the socket's own task) that writes the connection's frames, as socketioxide does.
//! The reader is polled only when the socket wakes it: a single loop that also polled it after
//! every write had tungstenite zero its read buffer on each attempt, which was most of the
//! gateway's CPU during a fan-out. The writer takes every frame already queued, hands them to
//! the socket's buffer and flushes once, under one deadline per batch.
//!
//! A client that takes nothing for the write stall timeout is a slow consumer: the connection closes
//! with the "did not keep up" Close, which follows what was already written (see
//! `node/outbound.rs`), so a client that reads again gets a gap-free prefix and then the Close.
//!
//! With stateful reconnect a socket that drops without a close handshake leaves its connection
//! running; a new socket on the same token takes over, writes `Sequence` and the unacknowledged
//! frames first, and the connection ignores the client until the client's own `Sequence`.

use std::{future::Future, time::Duration};

use axum::{
    extract::{
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
        FromRequestParts, Request,
    },
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures::{stream::SplitSink, stream::SplitStream, SinkExt, StreamExt};
use tokio::{task::JoinHandle, time::Instant};
use tungstenite::error::{CapacityError, Error as WsError};

use super::AppState;
use crate::{
    node::{Frame, FrameBody},
    session::{Attachment, FrameSource, Link, Turn},
};

/// Bytes read from the socket at once, and what an idle connection holds for reading. SignalR
/// messages from clients are small; a larger one is still read whole (tungstenite reserves its
/// length once its header is read). The default (128 KiB) was zeroed on every read attempt and
/// held by every idle connection.
const READ_BUFFER_BYTES: usize = 1024;
/// Bytes collected in the socket's write buffer before they are written out.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;
/// Most bytes taken from the queue for one flush; the rest follow in the next batch.
const BATCH_BYTES: usize = 64 * 1024;

type Sink = SplitSink<WebSocket, Message>;
type Source = SplitStream<WebSocket>;

/// `GET {hub}?id=` with an upgrade.
pub(super) async fn attach(state: AppState, request: Request, attachment: Attachment) -> Response {
    match attachment {
        Attachment::Reattach(link) => upgrade(state, request, link, true).await,
        // Only long polling is handed polls; a WebSocket request never gets one.
        Attachment::Started(link) | Attachment::Poll(link) => {
            upgrade(state, request, link, false).await
        }
    }
}

/// Completes the upgrade and serves the socket. A failed upgrade ends a connection it started.
pub(super) async fn upgrade(
    state: AppState,
    request: Request,
    link: Link,
    reattach: bool,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            if !reattach {
                link.terminate();
            }
            return rejection.into_response();
        }
    };
    if reattach {
        state.session_metrics.reconnected();
    }
    let tracker = state.connections.clone();
    let socket = Socket {
        limit: state.max_frame_bytes,
        stall: state.write_stall_timeout,
    };
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(socket.limit)
        .max_frame_size(socket.limit)
        .on_upgrade(move |ws| tracker.track_future(serve(ws, link, reattach, socket)))
}

/// A socket's limits.
#[derive(Debug, Clone, Copy)]
struct Socket {
    /// Largest message taken from the client.
    limit: usize,
    /// A client that takes nothing from a write for this long is not reading. A closing
    /// connection gets as long to flush its last frames (its Close), so a client that stopped
    /// reading for a while still learns why it was closed.
    stall: Duration,
}

/// How a socket's service ended.
enum SocketEnd {
    /// A newer socket took over (stateful reconnect).
    Superseded,
    /// The connection finished: flush its last frames and close normally.
    Ended,
    /// The client closed the socket properly: it is gone for good.
    ClientClosed,
    /// The socket broke (no close handshake, or a write failed).
    Dropped,
    /// The client took nothing for the stall timeout; the connection is closing as a slow
    /// consumer.
    Stalled,
}

/// How the reader stopped.
enum ReadEnd {
    /// The client sent a close frame.
    ClientClosed,
    /// The socket broke or ended without a close frame.
    Dropped,
    /// The connection ended; nothing more is taken from the client.
    Ended,
    /// The client sent a message over the size limit; the connection was told and closes.
    Refused,
}

/// A plain function returning the future: as an `async fn` it would keep the whole `WebSocket`
/// argument for the socket's life beside the halves it is split into.
fn serve(ws: WebSocket, link: Link, reattach: bool, socket: Socket) -> impl Future<Output = ()> {
    let (sink, stream) = ws.split();
    serve_split(sink, stream, link, reattach, socket)
}

async fn serve_split(mut sink: Sink, stream: Source, link: Link, reattach: bool, socket: Socket) {
    let turn = link.take_turn();
    let mut frames = tokio::select! {
        frames = link.frames() => frames,
        () = turn.superseded.raised() => return,
    };
    if reattach {
        // Holding the frames guarantees the old socket's tasks are done: nothing it read can
        // follow this marker.
        if !link.reattached().await {
            return;
        }
        tracing::debug!("websocket reattached");
        let resumed = async {
            for frame in frames.resume() {
                sink.feed(message(frame)).await?;
            }
            sink.flush().await
        };
        if !matches!(
            tokio::time::timeout(socket.stall, resumed).await,
            Ok(Ok(()))
        ) {
            link.release_turn(&turn);
            return;
        }
    }
    let mut reader = Reader {
        task: tokio::spawn(read(link.clone(), stream, socket.limit)),
        done: false,
    };
    let end = pump(
        &link,
        &turn,
        &mut frames,
        &mut sink,
        &mut reader,
        socket.stall,
    )
    .await;
    // The reader is gone before the frames are let go, so a socket taking over never sees
    // input from this one after its `Reattached`.
    reader.stop().await;
    match end {
        SocketEnd::Superseded => {}
        SocketEnd::Ended => flush(&mut frames, &mut sink, Instant::now() + socket.stall).await,
        SocketEnd::Stalled => {
            // The Close follows what the socket holds; it and the connection's end get one
            // more stall timeout together.
            let deadline = Instant::now() + socket.stall;
            let _ = tokio::time::timeout_at(deadline, link.ended()).await;
            flush(&mut frames, &mut sink, deadline).await;
        }
        SocketEnd::ClientClosed => {
            link.terminate();
            // Sends the reply to the client's close frame.
            let _ = tokio::time::timeout(socket.stall, sink.flush()).await;
        }
        // With stateful reconnect the client comes back on a new socket; the connection waits
        // for it (reaped after the disconnect timeout). Without, the client is gone.
        SocketEnd::Dropped if link.is_stateful() => link.release_turn(&turn),
        SocketEnd::Dropped => link.terminate(),
    }
}

/// The reader task of a socket.
struct Reader {
    task: JoinHandle<ReadEnd>,
    /// The task's end was taken already.
    done: bool,
}

impl Reader {
    /// Stops the task and waits until it is gone.
    async fn stop(self) {
        if !self.done {
            self.task.abort();
            let _ = self.task.await;
        }
    }
}

/// Feeds what the client sends to the connection until the socket or the connection ends.
async fn read(link: Link, mut stream: Source, limit: usize) -> ReadEnd {
    loop {
        let data = match stream.next().await {
            Some(Ok(Message::Text(text))) => Bytes::from(text),
            Some(Ok(Message::Binary(bytes))) => bytes,
            Some(Ok(Message::Close(_))) => return ReadEnd::ClientClosed,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Err(error)) if too_long(&error) => {
                tracing::info!(limit, "websocket message over the size limit");
                return match link.oversized(limit).await {
                    true => ReadEnd::Refused,
                    false => ReadEnd::Ended,
                };
            }
            Some(Err(_)) | None => return ReadEnd::Dropped,
        };
        if !link.push(data).await {
            return ReadEnd::Ended;
        }
    }
}

/// Whether a read failed because the client's message or frame is over the limit.
fn too_long(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<WsError>())
        .is_some_and(|error| {
            matches!(
                error,
                WsError::Capacity(CapacityError::MessageTooLong { .. })
            )
        })
}

/// Writes the connection's frames until the socket or the connection ends.
async fn pump(
    link: &Link,
    turn: &Turn,
    frames: &mut FrameSource,
    sink: &mut Sink,
    reader: &mut Reader,
    stall: Duration,
) -> SocketEnd {
    // Made once and kept registered, rather than registered and dropped again around every
    // batch: most batches are a single frame, and this loop runs once per delivery.
    let superseded = turn.superseded.raised();
    let ended = link.ended();
    tokio::pin!(superseded, ended);
    loop {
        let first = tokio::select! {
            () = &mut superseded => return SocketEnd::Superseded,
            () = &mut ended => return SocketEnd::Ended,
            read = &mut reader.task, if !reader.done => {
                reader.done = true;
                match read {
                    Ok(ReadEnd::ClientClosed) => return SocketEnd::ClientClosed,
                    Ok(ReadEnd::Dropped) | Err(_) => return SocketEnd::Dropped,
                    // The connection is ending (or about to, with its Close): keep writing.
                    Ok(ReadEnd::Ended | ReadEnd::Refused) => continue,
                }
            }
            frame = frames.next() => match frame {
                Some(frame) => frame,
                None => return SocketEnd::Ended,
            },
        };
        frames.linger().await;
        let deadline = Instant::now() + stall;
        match tokio::time::timeout_at(deadline, write_batch(sink, frames, first)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return SocketEnd::Dropped,
            Err(_) => {
                tracing::info!("client not reading; closing it as a slow consumer");
                frames.stalled();
                return SocketEnd::Stalled;
            }
        }
    }
}

/// Hands `first` and the frames queued behind it (up to [`BATCH_BYTES`]) to the socket, then
/// flushes once; a flush that carried events times their push once.
async fn write_batch(
    sink: &mut Sink,
    frames: &mut FrameSource,
    first: Frame,
) -> Result<(), axum::Error> {
    let mut batch = 0;
    let mut next = Some(first);
    while let Some(frame) = next {
        batch += frame.len();
        sink.feed(message(frame)).await?;
        next = if batch < BATCH_BYTES {
            frames.try_next()
        } else {
            None
        };
    }
    sink.flush().await?;
    frames.written();
    Ok(())
}

/// Writes what the finished connection left (its Close, usually) and closes with 1000.
async fn flush(frames: &mut FrameSource, sink: &mut Sink, deadline: Instant) {
    let flushed = async {
        while let Some(frame) = frames.try_next() {
            sink.feed(message(frame)).await?;
        }
        let close = CloseFrame {
            code: 1000,
            reason: Utf8Bytes::from_static(""),
        };
        sink.send(Message::Close(Some(close))).await
    };
    match tokio::time::timeout_at(deadline, flushed).await {
        Ok(Ok(())) => frames.written(),
        Ok(Err(_)) => {}
        Err(_) => tracing::debug!("closing frames not flushed in time"),
    }
}

/// The message type a frame's protocol calls for.
fn message(frame: Frame) -> Message {
    match frame.into_body() {
        FrameBody::Text(text) => Message::Text(text),
        FrameBody::Binary(bytes) => Message::Binary(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future a function of four arguments returns, without calling it.
    fn future_size<A, B, C, D, F: Future>(_: fn(A, B, C, D) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every WebSocket holds this future for its life: keeping the unsplit `WebSocket` in it as
    /// well (an `async fn` taking it) breaks this budget. Debug build: 1,160 bytes before, 712
    /// after; 912 since the writer's two waits (`session::Signal`) each keep the waker they
    /// registered, so that polling them does not lock.
    #[test]
    fn idle_socket_future_stays_small() {
        let size = future_size(serve);
        assert!(size <= 928, "socket future is {size} bytes");
    }
}
