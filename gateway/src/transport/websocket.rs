//! The WebSocket transport: JSON in text frames, MessagePack in binary frames,
//! one writer task per connection draining its bounded outgoing queue.

use std::{future::ready, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::{
    node::{outbound, Frame, OutboundReceiver},
    session::{run_connection, Connection, Ending},
};

/// A write that takes longer means the client is gone or not reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection may take to flush its last frames.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) async fn serve(
    socket: WebSocket,
    connection: Connection,
    state: AppState,
    token: String,
) {
    let (sink, stream) = socket.split();
    let (outbound, receiver) = outbound(connection.config.outgoing_queue_bytes);
    let abort = CancellationToken::new();
    let mut writer = tokio::spawn(write(sink, receiver, abort.clone()));
    // Data until the client's Close frame or a transport error.
    let inbound = Box::pin(
        stream
            .take_while(|message| {
                ready(matches!(message, Ok(m) if !matches!(m, Message::Close(_))))
            })
            .filter_map(|message| {
                ready(match message {
                    Ok(Message::Text(text)) => Some(Bytes::from(text)),
                    Ok(Message::Binary(bytes)) => Some(bytes),
                    _ => None,
                })
            }),
    );
    let ending = run_connection(connection, inbound, outbound).await;
    if ending == Ending::Abort {
        abort.cancel();
    }
    if tokio::time::timeout(FLUSH_TIMEOUT, &mut writer)
        .await
        .is_err()
    {
        abort.cancel();
        let _ = writer.await;
    }
    state.registry.remove(&token);
}

type Sink = futures::stream::SplitSink<WebSocket, Message>;

/// Writes queued frames until every sender is gone (then closes with 1000) or
/// the connection is aborted.
async fn write(mut sink: Sink, mut frames: OutboundReceiver, abort: CancellationToken) {
    loop {
        let frame = tokio::select! {
            frame = frames.recv() => frame,
            () = abort.cancelled() => return,
        };
        let Some(frame) = frame else {
            let close = CloseFrame {
                code: 1000,
                reason: Utf8Bytes::from_static(""),
            };
            let _ =
                tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(close)))).await;
            return;
        };
        let message = match frame {
            Frame::Text(bytes) => match Utf8Bytes::try_from(bytes) {
                Ok(text) => Message::Text(text),
                Err(error) => {
                    tracing::error!(%error, "text frame is not UTF-8; dropped");
                    continue;
                }
            },
            Frame::Binary(bytes) => Message::Binary(bytes),
        };
        match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return,
        }
    }
}
