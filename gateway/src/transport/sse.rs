//! Server-Sent Events: `GET {hub}?id=` with `Accept: text/event-stream` carries server→client
//! frames as `data:` events; the client sends with POSTs (see `sends`). JSON only: EventSource
//! delivers text.
//!
//! The response starts with the comment line `:\r\n`, flushed at once, because the JS client
//! sends its handshake only after EventSource reports the stream open (some browsers wait for a
//! first body byte). Buffering and compression are disabled for the same reason. A client that
//! stops just drops the stream, so dropping the response body ends the connection.

use std::convert::Infallible;

use axum::{
    body::Body,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use tokio::sync::OwnedMutexGuard;

use crate::{
    node::Room,
    session::{Attachment, FrameSource, Link},
};

/// Written first: a comment, so the stream opens before there is anything to say.
const OPENING: &[u8] = b":\r\n";
/// Most bytes of frames one event carries. The HTTP server buffers a few chunks for a client
/// that does not read; bounded chunks keep that small, and leave the rest in the connection's
/// budgeted queue, where a client that falls behind is noticed.
const MAX_EVENT_BYTES: usize = 64 * 1024;

/// `GET {hub}?id=` for an event stream.
pub(super) async fn attach(attachment: Attachment) -> Response {
    let link = match attachment {
        Attachment::Started(link) => link,
        // The registry refuses a second stream; these never reach an event-stream request.
        Attachment::Poll(_) | Attachment::Reattach(_) => {
            return (StatusCode::CONFLICT, "Connection is already active").into_response()
        }
    };
    let frames = link.frames().await;
    let events = EventStream {
        link,
        frames,
        opened: false,
    };
    let body = futures::stream::unfold(events, |mut events| async move {
        let chunk = events.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), events))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache,no-store")
        .header(header::PRAGMA, "no-cache")
        .header(header::CONTENT_ENCODING, "identity")
        // Tells reverse proxies (nginx) not to buffer the stream.
        .header("x-accel-buffering", "no")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The response body's state. Dropped when the response ends or the client goes away.
struct EventStream {
    link: Link,
    frames: OwnedMutexGuard<FrameSource>,
    opened: bool,
}

impl EventStream {
    /// The next bytes of the response; `None` once the connection ended and everything was sent.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.opened {
            self.opened = true;
            return Some(Bytes::from_static(OPENING));
        }
        let first = tokio::select! {
            frame = self.frames.next() => frame,
            () = self.link.ended() => None,
        };
        if first.is_some() {
            self.frames.linger().await;
        }
        // What is already queued goes in the same event (the client parses several records
        // per event); after the end, this is the final flush.
        let mut payload = first
            .map(|frame| frame.bytes().to_vec())
            .unwrap_or_default();
        let room = Room::up_to(MAX_EVENT_BYTES.saturating_sub(payload.len()));
        self.frames
            .take_following(room, |frame| payload.extend_from_slice(frame.bytes()));
        self.frames.written();
        (!payload.is_empty()).then(|| event(&payload))
    }
}

impl Drop for EventStream {
    /// The GET ended: by the connection's end, or because the client aborted it (that is how
    /// the JS client stops an SSE connection; there is no DELETE).
    fn drop(&mut self) {
        self.link.terminate();
    }
}

/// One unnamed event: each line of `payload` as `data: <line>\r\n` (a trailing `\r` dropped),
/// ended by an empty line, as .NET writes it. EventSource joins the lines with `\n` again.
fn event(payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + 10);
    for line in payload.split(|&byte| byte == b'\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_one_data_line_per_line_and_end_with_a_blank_line() {
        assert_eq!(&event(b"{}\x1e")[..], b"data: {}\x1e\r\n\r\n");
        assert_eq!(
            &event(b"{\"type\":6}\x1e{\"type\":6}\x1e")[..],
            b"data: {\"type\":6}\x1e{\"type\":6}\x1e\r\n\r\n"
        );
        assert_eq!(
            &event(b"a\r\nb\nc")[..],
            b"data: a\r\ndata: b\r\ndata: c\r\n\r\n"
        );
    }
}
