//! Long polling: each `GET {hub}?id=` takes whatever frames are queued, waiting up to the poll
//! timeout for the first; the client sends with POSTs (see `sends`) and ends with DELETE.
//!
//! The answers are the ones the JS client acts on: the first poll returns 200 at once with an
//! empty body (the client waits for it before anything else, and drops its body); a poll that
//! times out returns 200 empty and is simply repeated; 204 means the connection is over (it
//! ended, or a newer poll replaced this one). Between polls the connection is idle, and one idle
//! longer than the disconnect timeout is reaped. No keep-alive Pings flow: polling is the
//! keep-alive.

use std::time::Duration;

use bytes::Bytes;

use super::{answer::Answer, AppState};
use crate::{
    node::{Opened, Room},
    session::{AttachError, Attachment, Link, Turn},
};

/// Most bytes one poll response carries; the rest waits for the next poll.
pub(super) const MAX_POLL_BYTES: usize = 1024 * 1024;

/// `GET {hub}?id=` without upgrade or event-stream `Accept`.
pub(super) async fn attach(state: &AppState, attachment: Attachment, token: &str) -> Answer {
    match attachment {
        Attachment::Started(link) => {
            let turn = link.take_turn();
            link.release_turn(&turn);
            Answer::Polled(Bytes::new())
        }
        Attachment::Poll(link) => {
            poll(state, link, token, MAX_POLL_BYTES, state.poll_timeout).await
        }
        // Only WebSockets are reattached; a poll never gets this.
        Attachment::Reattach(_) => Answer::Refused(AttachError::AlreadyActive),
    }
}

/// Ends the poll's turn however the request ends, a client that aborted it included, so an idle
/// connection is reaped.
struct PollTurn {
    link: Link,
    turn: Turn,
    _waiting: Opened,
}

impl Drop for PollTurn {
    fn drop(&mut self) {
        self.link.release_turn(&self.turn);
    }
}

/// One poll of a running connection: the frames queued, up to about `max_bytes` (the first
/// frame whole, then whole frames until the body reaches `max_bytes`), or nothing after `wait`.
pub(super) async fn poll(
    state: &AppState,
    link: Link,
    token: &str,
    max_bytes: usize,
    wait: Duration,
) -> Answer {
    let turn = PollTurn {
        turn: link.take_turn(),
        link,
        _waiting: state.waiting_polls.open(),
    };
    let (link, superseded) = (&turn.link, &turn.turn.superseded);
    let mut frames = tokio::select! {
        frames = link.frames() => frames,
        () = superseded.raised() => return Answer::PollOver,
    };
    let first = tokio::select! {
        frame = frames.next() => frame,
        () = link.ended() => None,
        () = superseded.raised() => return Answer::PollOver,
        () = tokio::time::sleep(wait) => return Answer::Polled(Bytes::new()),
    };
    if first.is_some() {
        frames.linger().await;
    }
    let mut body = first
        .map(|frame| frame.bytes().to_vec())
        .unwrap_or_default();
    let room = Room::up_to(max_bytes.saturating_sub(body.len()));
    frames.take_following(room, |frame| body.extend_from_slice(frame.bytes()));
    frames.written();
    if body.is_empty() {
        // Ended and fully delivered: the connection is over for the client too.
        state.registry.remove(token);
        return Answer::PollOver;
    }
    Answer::Polled(Bytes::from(body))
}
