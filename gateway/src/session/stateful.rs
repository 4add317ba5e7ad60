//! Stateful reconnect (`withStatefulReconnect()`): the bookkeeping that lets a WebSocket drop
//! for a few seconds without losing or repeating a message.
//!
//! Each direction numbers its Invocation-family messages (types 1–5) from 1. The server keeps
//! what it wrote in a [`Replay`] buffer until the client acknowledges it, and writes
//! `Sequence` + everything unacknowledged on the socket that replaces a dropped one. For what the
//! client sends, [`Incoming`] remembers the highest id processed, so messages the client resends
//! after a reattach are recognised and dropped, and acknowledges them about once a second.

use std::{
    collections::VecDeque,
    sync::{Mutex, MutexGuard},
};

use tokio::sync::Notify;

use super::CloseReason;
use crate::{
    node::Frame,
    protocol::{HubMessage, Protocol},
};

/// What the server wrote and the client has not acknowledged, bounded by bytes.
#[derive(Debug)]
pub struct Replay {
    state: Mutex<ReplayState>,
    /// Wakes a writer waiting for room after an Ack.
    acked: Notify,
    limit_bytes: usize,
}

#[derive(Debug, Default)]
struct ReplayState {
    /// Set by the handshake: `None` until a version-2 handshake enables the feature, and for
    /// good if the client asked for version 1 (it then runs without stateful reconnect).
    protocol: Option<Protocol>,
    /// Id the next numbered frame gets.
    next_id: u64,
    /// Numbered frames not acknowledged yet, oldest first.
    unacked: VecDeque<(u64, Frame)>,
    bytes: usize,
}

impl Replay {
    pub fn new(limit_bytes: usize) -> Self {
        Self {
            state: Mutex::new(ReplayState {
                next_id: 1,
                ..ReplayState::default()
            }),
            acked: Notify::new(),
            limit_bytes,
        }
    }

    fn state(&self) -> MutexGuard<'_, ReplayState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Turns numbering on once the client's handshake asked for version 2.
    pub fn enable(&self, protocol: Protocol) {
        self.state().protocol = Some(protocol);
    }

    /// Whether the connection runs with stateful reconnect.
    pub fn is_enabled(&self) -> bool {
        self.state().protocol.is_some()
    }

    /// Waits until the buffer has room for another frame. While the client does not acknowledge,
    /// frames stay in the connection's outgoing queue, which overflows if it never does: the
    /// buffer bound holds without ever blocking the fan-out.
    pub async fn room(&self) {
        loop {
            {
                let state = self.state();
                if state.protocol.is_none() || state.bytes < self.limit_bytes {
                    return;
                }
            }
            self.acked.notified().await;
        }
    }

    /// Numbers and keeps `frame` if it is an Invocation-family message.
    pub fn record(&self, frame: &Frame) {
        let mut state = self.state();
        let Some(protocol) = state.protocol else {
            return;
        };
        if protocol.is_sequenced(frame.bytes()) {
            let id = state.next_id;
            state.next_id += 1;
            state.bytes += frame.len();
            state.unacked.push_back((id, frame.clone()));
        }
    }

    /// The client processed everything up to and including `sequence_id`.
    pub fn ack(&self, sequence_id: u64) {
        let mut state = self.state();
        while let Some((id, frame)) = state.unacked.front() {
            if *id > sequence_id {
                break;
            }
            let size = frame.len();
            state.unacked.pop_front();
            state.bytes -= size;
        }
        drop(state);
        self.acked.notify_one();
    }

    /// What a replacement socket writes first: `Sequence` with the id of the oldest unacknowledged
    /// frame (or the next id when there is none), then those frames in order.
    pub fn resume(&self) -> Vec<Frame> {
        let state = self.state();
        let Some(protocol) = state.protocol else {
            return Vec::new();
        };
        let first = state.unacked.front().map_or(state.next_id, |(id, _)| *id);
        let sequence = Frame::new(
            protocol.transfer_format(),
            protocol.encode(&HubMessage::Sequence { sequence_id: first }),
        );
        std::iter::once(sequence)
            .chain(state.unacked.iter().map(|(_, frame)| frame.clone()))
            .collect()
    }
}

/// The numbering of what the client sends, kept by the connection loop.
#[derive(Debug, Default)]
pub struct Incoming {
    /// Highest id handled; resent messages up to it are duplicates.
    processed: u64,
    /// Id the next numbered message from the client has.
    next_id: u64,
    /// Last id acknowledged to the client.
    acked: u64,
    /// After a reattach, everything before the client's `Sequence` is stale.
    awaiting_sequence: bool,
}

impl Incoming {
    pub fn new() -> Self {
        Self {
            next_id: 1,
            ..Self::default()
        }
    }

    /// A new socket took over: ignore the client until its `Sequence` arrives.
    pub fn reattached(&mut self) {
        self.awaiting_sequence = true;
    }

    /// Whether `message` is to be handled; `Sequence` itself is consumed here.
    pub fn accept(&mut self, message: &HubMessage) -> Result<bool, CloseReason> {
        if let HubMessage::Sequence { sequence_id } = message {
            if *sequence_id > self.processed + 1 {
                return Err(CloseReason::SequenceAhead);
            }
            self.next_id = *sequence_id;
            self.awaiting_sequence = false;
            return Ok(false);
        }
        if self.awaiting_sequence {
            return Ok(false);
        }
        if !is_numbered(message) {
            return Ok(true);
        }
        let id = self.next_id;
        self.next_id += 1;
        if id <= self.processed {
            return Ok(false);
        }
        self.processed = id;
        Ok(true)
    }

    /// The Ack to send, if anything arrived since the last one.
    pub fn pending_ack(&mut self) -> Option<HubMessage> {
        (self.processed > self.acked).then(|| {
            self.acked = self.processed;
            HubMessage::Ack {
                sequence_id: self.processed,
            }
        })
    }
}

fn is_numbered(message: &HubMessage) -> bool {
    match message {
        HubMessage::Invocation { .. }
        | HubMessage::StreamItem { .. }
        | HubMessage::Completion { .. }
        | HubMessage::StreamInvocation { .. }
        | HubMessage::CancelInvocation { .. } => true,
        HubMessage::Ping
        | HubMessage::Close { .. }
        | HubMessage::Ack { .. }
        | HubMessage::Sequence { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn event(n: u64) -> Frame {
        Frame::text(
            Protocol::Json
                .encode_invocation("Tick", &n)
                .expect("encodes"),
        )
    }

    fn invocation() -> HubMessage {
        HubMessage::Invocation {
            invocation_id: Some("0".to_owned()),
            target: "T".to_owned(),
            arguments: vec![],
            stream_ids: vec![],
        }
    }

    #[test]
    fn nothing_is_kept_until_the_handshake_enables_it() {
        let replay = Replay::new(1000);
        replay.record(&event(1));
        assert!(replay.resume().is_empty());
        replay.enable(Protocol::Json);
        replay.record(&Frame::text(Protocol::Json.encode(&HubMessage::Ping)));
        replay.record(&event(1));
        let resumed = replay.resume();
        assert_eq!(
            resumed[0],
            Frame::text(Bytes::from_static(b"{\"type\":9,\"sequenceId\":1}\x1e"))
        );
        assert_eq!(resumed[1..], [event(1)]);
    }

    #[test]
    fn acknowledged_frames_are_not_replayed() {
        let replay = Replay::new(1000);
        replay.enable(Protocol::Json);
        for n in 1..=3 {
            replay.record(&event(n));
        }
        replay.ack(2);
        let resumed = replay.resume();
        assert_eq!(
            resumed[0],
            Frame::text(Bytes::from_static(b"{\"type\":9,\"sequenceId\":3}\x1e"))
        );
        assert_eq!(resumed[1..], [event(3)]);
        replay.ack(3);
        assert_eq!(
            replay.resume(),
            [Frame::text(Bytes::from_static(
                b"{\"type\":9,\"sequenceId\":4}\x1e"
            ))]
        );
    }

    #[tokio::test]
    async fn a_full_buffer_waits_for_an_ack() {
        let replay = std::sync::Arc::new(Replay::new(event(1).len()));
        replay.enable(Protocol::Json);
        replay.room().await;
        replay.record(&event(1));
        let waiting = tokio::spawn({
            let replay = replay.clone();
            async move { replay.room().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        replay.ack(1);
        waiting.await.expect("room after the ack");
    }

    #[test]
    fn resent_messages_after_a_reattach_are_dropped_and_new_ones_handled() {
        let mut incoming = Incoming::new();
        assert_eq!(incoming.accept(&invocation()), Ok(true));
        assert_eq!(incoming.accept(&invocation()), Ok(true));
        assert_eq!(
            incoming.pending_ack(),
            Some(HubMessage::Ack { sequence_id: 2 })
        );
        assert_eq!(incoming.pending_ack(), None);
        incoming.reattached();
        assert_eq!(incoming.accept(&HubMessage::Ping), Ok(false));
        assert_eq!(
            incoming.accept(&HubMessage::Sequence { sequence_id: 2 }),
            Ok(false)
        );
        assert_eq!(incoming.accept(&invocation()), Ok(false), "#2 again");
        assert_eq!(incoming.accept(&invocation()), Ok(true), "#3 is new");
        assert_eq!(incoming.accept(&HubMessage::Ping), Ok(true));
    }

    #[test]
    fn a_sequence_ahead_of_what_was_received_is_fatal() {
        let mut incoming = Incoming::new();
        assert_eq!(incoming.accept(&invocation()), Ok(true));
        assert_eq!(
            incoming.accept(&HubMessage::Sequence { sequence_id: 3 }),
            Err(CloseReason::SequenceAhead)
        );
    }
}
