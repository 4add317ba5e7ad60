//! The WebSocket transport: JSON in text frames, MessagePack in binary frames.
//!
//! Each socket has a reader task that feeds what the client sends to the connection, and a
//! writer (the socket's own task) that writes the connection's frames, as socketioxide does.
//! The reader is polled only when the socket wakes it: a single loop that also polled it after
//! every write had tungstenite zero its read buffer on each attempt, which was most of the
//! gateway's CPU during a fan-out. The writer takes every frame already queued and writes them
//! in one vectored system call, under one deadline per batch.
//!
//! The gateway speaks RFC 6455 itself (`upgrade`, `codec`, `reader`, `writer`): the TCP stream
//! is split into halves that need no lock between them, a shared event payload goes to the
//! socket without being copied into a per-socket buffer, and an idle socket holds no buffer at
//! all. Client pings are answered; no extension (compression) is offered.
//!
//! A client that takes nothing for the write stall timeout is a slow consumer: the connection closes
//! with the "did not keep up" Close, which follows what was already written (see
//! `node/outbound.rs`), so a client that reads again gets a gap-free prefix and then the Close.
//!
//! With stateful reconnect a socket that drops without a close handshake leaves its connection
//! running; a new socket on the same token takes over, writes `Sequence` and the unacknowledged
//! frames first, and the connection ignores the client until the client's own `Sequence`.

mod codec;
mod reader;
mod upgrade;
mod writer;

use std::time::Duration;

use axum::{
    extract::Request,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use tokio::{net::TcpStream, task::JoinHandle, time::Instant};

use self::{
    codec::Opcode,
    reader::{ClientReader, Incoming},
    writer::FrameWriter,
};
use super::AppState;
use crate::{
    node::{Frame, Room},
    session::{Attachment, FrameSource, Link, Turn},
};

/// Most bytes taken from the queue for one write; the rest follow in the next.
const BATCH_BYTES: usize = 64 * 1024;
/// Most frames taken from the queue for one write.
const BATCH_FRAMES: usize = 64;
/// A close frame's payload for a normal closure (status 1000).
const NORMAL_CLOSURE: &[u8] = &1000u16.to_be_bytes();

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

/// Answers the upgrade and serves the socket. A refused upgrade ends a connection it started.
pub(super) async fn upgrade(
    state: AppState,
    request: Request,
    link: Link,
    reattach: bool,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    let accepted = match upgrade::accept(&mut parts) {
        Ok(accepted) => accepted,
        Err(refused) => {
            if !reattach {
                link.terminate();
            }
            return refused.into_response();
        }
    };
    if reattach {
        state.session_metrics.reconnected();
    }
    let socket = Socket {
        limit: state.max_frame_bytes,
        stall: state.write_stall_timeout,
    };
    let served = serve(accepted.connection, link, reattach, socket);
    tokio::spawn(state.connections.track_future(served));
    accepted.response
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
    /// The client closed the socket properly, with this status if it gave one: it is gone for
    /// good.
    ClientClosed(Option<u16>),
    /// The socket broke (no close handshake, or a write failed).
    Dropped,
    /// The client took nothing for the stall timeout; the connection is closing as a slow
    /// consumer.
    Stalled,
}

/// How the reader stopped.
enum ReadEnd {
    /// The client sent a close frame, with this status if it gave one.
    ClientClosed(Option<u16>),
    /// The client pinged: the writer answers, then reading goes on with `ClientReader`.
    Ping(Bytes, ClientReader),
    /// The socket broke, ended without a close frame, or broke the protocol.
    Dropped,
    /// The connection ended; nothing more is taken from the client.
    Ended,
    /// The client sent a message over the size limit; the connection was told and closes.
    Refused,
}

/// Waits for hyper to hand the connection over, then serves it. Its future is what every
/// socket holds for its life (its size is checked, see the test).
async fn serve(connection: OnUpgrade, link: Link, reattach: bool, socket: Socket) {
    match upgrade::take_stream(connection).await {
        Ok((stream, read_ahead)) => serve_stream(stream, read_ahead, link, reattach, socket).await,
        Err(error) => {
            tracing::debug!(%error, "websocket upgrade failed");
            if !reattach {
                link.terminate();
            }
        }
    }
}

async fn serve_stream(
    stream: TcpStream,
    read_ahead: Bytes,
    link: Link,
    reattach: bool,
    socket: Socket,
) {
    let (read_half, write_half) = stream.into_split();
    let mut writer = FrameWriter::new(write_half);
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
        for frame in frames.resume() {
            writer.push_frame(frame);
        }
        if !matches!(
            tokio::time::timeout(socket.stall, writer.flush()).await,
            Ok(Ok(()))
        ) {
            link.release_turn(&turn);
            return;
        }
    }
    let client = ClientReader::new(read_half, read_ahead, socket.limit);
    let mut reader = Reader {
        task: tokio::spawn(read(link.clone(), client)),
        done: false,
    };
    let end = pump(
        &link,
        &turn,
        &mut frames,
        &mut writer,
        &mut reader,
        socket.stall,
    )
    .await;
    // The reader is gone before the frames are let go, so a socket taking over never sees
    // input from this one after its `Reattached`.
    reader.stop().await;
    match end {
        SocketEnd::Superseded => {}
        SocketEnd::Ended => flush(&mut frames, &mut writer, Instant::now() + socket.stall).await,
        SocketEnd::Stalled => {
            // The Close follows what the socket holds; it and the connection's end get one
            // more stall timeout together.
            let deadline = Instant::now() + socket.stall;
            let _ = tokio::time::timeout_at(deadline, link.ended()).await;
            flush(&mut frames, &mut writer, deadline).await;
        }
        SocketEnd::ClientClosed(status) => {
            link.terminate();
            // The close handshake's reply echoes the client's status.
            let status = status.map_or(Bytes::new(), |status| {
                Bytes::copy_from_slice(&status.to_be_bytes())
            });
            writer.push(Opcode::Close, status);
            let _ = tokio::time::timeout(socket.stall, writer.flush()).await;
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

/// Feeds what the client sends to the connection until the socket or the connection ends, or
/// the client pings.
async fn read(link: Link, mut client: ClientReader) -> ReadEnd {
    loop {
        let data = match client.next().await {
            Ok(Incoming::Message(data)) => data,
            Ok(Incoming::Ping(payload)) => return ReadEnd::Ping(payload, client),
            Ok(Incoming::Close(status)) => return ReadEnd::ClientClosed(status),
            Err(error) if error.is_too_long() => {
                let limit = client.limit();
                tracing::info!(limit, "websocket message over the size limit");
                return match link.oversized(limit).await {
                    true => ReadEnd::Refused,
                    false => ReadEnd::Ended,
                };
            }
            Err(error) => {
                tracing::debug!(%error, "websocket read ended");
                return ReadEnd::Dropped;
            }
        };
        if !link.push(data).await {
            return ReadEnd::Ended;
        }
    }
}

/// Writes the connection's frames until the socket or the connection ends.
async fn pump(
    link: &Link,
    turn: &Turn,
    frames: &mut FrameSource,
    writer: &mut FrameWriter,
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
            outcome = &mut reader.task, if !reader.done => match outcome {
                Ok(ReadEnd::Ping(payload, client)) => {
                    // The task is over until a new one reads on, even if the pong stalls.
                    reader.done = true;
                    writer.push(Opcode::Pong, payload);
                    let pong = writer.flush();
                    if let Some(end) = written(tokio::time::timeout(stall, pong).await, frames) {
                        return end;
                    }
                    reader.task = tokio::spawn(read(link.clone(), client));
                    reader.done = false;
                    continue;
                }
                Ok(ReadEnd::ClientClosed(status)) => {
                    reader.done = true;
                    return SocketEnd::ClientClosed(status);
                }
                Ok(ReadEnd::Dropped) | Err(_) => {
                    reader.done = true;
                    return SocketEnd::Dropped;
                }
                // The connection is ending (or about to, with its Close): keep writing.
                Ok(ReadEnd::Ended | ReadEnd::Refused) => {
                    reader.done = true;
                    continue;
                }
            },
            frame = frames.next() => match frame {
                Some(frame) => frame,
                None => return SocketEnd::Ended,
            },
        };
        frames.linger().await;
        let batch = write_batch(writer, frames, first);
        if let Some(end) = written(tokio::time::timeout(stall, batch).await, frames) {
            return end;
        }
    }
}

/// How a write under the stall timeout ended the socket, if it did.
fn written(
    result: Result<std::io::Result<()>, tokio::time::error::Elapsed>,
    frames: &FrameSource,
) -> Option<SocketEnd> {
    match result {
        Ok(Ok(())) => None,
        Ok(Err(_)) => Some(SocketEnd::Dropped),
        Err(_) => {
            tracing::info!("client not reading; closing it as a slow consumer");
            frames.stalled();
            Some(SocketEnd::Stalled)
        }
    }
}

/// Writes `first` and the frames queued behind it (up to [`BATCH_BYTES`] or [`BATCH_FRAMES`],
/// taken under one lock) in one vectored write; a write that carried events times their push once.
async fn write_batch(
    writer: &mut FrameWriter,
    frames: &mut FrameSource,
    first: Frame,
) -> std::io::Result<()> {
    let room = Room {
        frames: BATCH_FRAMES - 1,
        bytes: BATCH_BYTES.saturating_sub(first.len()),
    };
    writer.push_frame(first);
    frames.take_following(room, |frame| writer.push_frame(frame));
    writer.flush().await?;
    frames.written();
    Ok(())
}

/// Writes what the finished connection left (its Close, usually) and closes with 1000. A
/// write the stall timeout cut short is finished first.
async fn flush(frames: &mut FrameSource, writer: &mut FrameWriter, deadline: Instant) {
    frames.take_queued(Room::ALL, |frame| writer.push_frame(frame));
    writer.push(Opcode::Close, Bytes::from_static(NORMAL_CLOSURE));
    match tokio::time::timeout_at(deadline, writer.flush()).await {
        Ok(Ok(())) => frames.written(),
        Ok(Err(_)) => {}
        Err(_) => tracing::debug!("closing frames not flushed in time"),
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    /// The size of the future a function of four arguments returns, without calling it.
    fn future_size<A, B, C, D, F: Future>(_: fn(A, B, C, D) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every WebSocket holds this future for its life: keeping tungstenite's unsplit
    /// `WebSocket` in it beside its halves broke an earlier budget. Debug build: 1,160 bytes before,
    /// 712 after; 912 once the writer's two waits (`session::Signal`) kept the waker they
    /// registered, so that polling them does not lock; 1,208 since the gateway frames its own
    /// writes, whose state lives here instead of in tungstenite's per-socket state on the heap
    /// (a 1 KiB read buffer, a write buffer kept at its largest batch, a lock between halves).
    #[test]
    fn idle_socket_future_stays_small() {
        let size = future_size(serve);
        assert!(size <= 1208, "socket future is {size} bytes");
    }
}
