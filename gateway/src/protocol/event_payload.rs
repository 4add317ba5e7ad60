//! What a client receives for an event: the contract's object plus
//! `sequence`, the event's position in its group, which clients use to
//! resume after a reconnect without gaps or duplicates. Live pushes and
//! `GetMissedEvents` both serialize this one definition, in whichever hub
//! protocol the connection speaks.

use pulse_proto::events::v1::event::Kind;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct EventPayload<'a> {
    #[serde(flatten)]
    pub payload: &'a Kind,
    pub sequence: u64,
}
