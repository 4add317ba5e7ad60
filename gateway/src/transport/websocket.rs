//! The WebSocket transport: JSON in text frames, MessagePack in binary frames, one task per
//! socket that feeds what it reads to the connection and writes the connection's frames.
//!
//! With stateful reconnect a socket that drops without a close handshake leaves its connection
//! running; a new socket on the same token takes over, writes `Sequence` and the unacknowledged
//! frames first, and the connection ignores the client until the client's own `Sequence`.

use std::time::Duration;

use axum::{
    extract::{
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
        FromRequestParts, Request,
    },
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures::{stream::SplitSink, stream::SplitStream, SinkExt, StreamExt};
use tokio::time::Instant;

use super::AppState;
use crate::{
    node::Frame,
    session::{Attachment, FrameSource, Link, Turn},
};

/// A write that takes longer means the client is gone or not reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection may take to flush its last frames.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

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
    let tracker = state.connections.clone();
    upgrade
        .max_message_size(state.max_frame_bytes)
        .max_frame_size(state.max_frame_bytes)
        .on_upgrade(move |socket| tracker.track_future(serve(socket, link, reattach)))
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
}

async fn serve(socket: WebSocket, link: Link, reattach: bool) {
    let turn = link.take_turn();
    let mut frames = tokio::select! {
        frames = link.frames() => frames,
        () = turn.superseded.cancelled() => return,
    };
    let (mut sink, mut stream) = socket.split();
    if reattach {
        // Holding the frames guarantees the old socket's task is done: nothing it read can
        // follow this marker.
        if !link.reattached().await {
            return;
        }
        tracing::debug!("websocket reattached");
        for frame in frames.resume() {
            if write(&mut sink, frame).await.is_err() {
                link.release_turn(&turn);
                return;
            }
        }
    }
    match pump(&link, &turn, &mut frames, &mut sink, &mut stream).await {
        SocketEnd::Superseded => {}
        SocketEnd::Ended => flush(&mut frames, &mut sink).await,
        SocketEnd::ClientClosed => {
            link.terminate();
            // Sends the reply to the client's close frame.
            let _ = tokio::time::timeout(SEND_TIMEOUT, sink.flush()).await;
        }
        // With stateful reconnect the client comes back on a new socket; the connection waits
        // for it (reaped after the disconnect timeout). Without, the client is gone.
        SocketEnd::Dropped if link.is_stateful() => link.release_turn(&turn),
        SocketEnd::Dropped => link.terminate(),
    }
}

async fn pump(
    link: &Link,
    turn: &Turn,
    frames: &mut FrameSource,
    sink: &mut Sink,
    stream: &mut Source,
) -> SocketEnd {
    loop {
        tokio::select! {
            () = turn.superseded.cancelled() => return SocketEnd::Superseded,
            () = link.ended() => return SocketEnd::Ended,
            message = stream.next() => {
                let data = match message {
                    Some(Ok(Message::Text(text))) => Bytes::from(text),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(_))) => return SocketEnd::ClientClosed,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Err(_)) | None => return SocketEnd::Dropped,
                };
                if !link.push(data).await {
                    return SocketEnd::Ended;
                }
            }
            frame = frames.next() => match frame {
                Some(frame) => {
                    if write(sink, frame).await.is_err() {
                        return SocketEnd::Dropped;
                    }
                }
                None => return SocketEnd::Ended,
            },
        }
    }
}

/// Writes what the finished connection left (its Close, usually) and closes with 1000.
async fn flush(frames: &mut FrameSource, sink: &mut Sink) {
    let deadline = Instant::now() + FLUSH_TIMEOUT;
    let flushed = async {
        while let Some(frame) = frames.try_next() {
            if write(sink, frame).await.is_err() {
                return;
            }
        }
        let close = CloseFrame {
            code: 1000,
            reason: Utf8Bytes::from_static(""),
        };
        let _ = sink.send(Message::Close(Some(close))).await;
    };
    if tokio::time::timeout_at(deadline, flushed).await.is_err() {
        tracing::debug!("closing frames not flushed in time");
    }
}

/// Writes one frame as the message type its protocol calls for.
async fn write(sink: &mut Sink, frame: Frame) -> Result<(), ()> {
    let message = match frame {
        Frame::Text(bytes) => match Utf8Bytes::try_from(bytes) {
            Ok(text) => Message::Text(text),
            Err(error) => {
                tracing::error!(%error, "text frame is not UTF-8; dropped");
                return Ok(());
            }
        },
        Frame::Binary(bytes) => Message::Binary(bytes),
    };
    match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(()),
    }
}
