//! `GetMissedEvents(groupId, afterSequence)`: catching up after a classic reconnect.
//!
//! A client without stateful reconnect comes back on a new connection (its network dropped, its
//! gateway restarted) having missed what its group published meanwhile. It joins the group again,
//! so live events queue from then on, and asks for the events after the last `sequence` it saw:
//! the retained ones, as the live invocations carried them, [`MAX_EVENTS`] at most per call
//! (`hasMore`: ask again after the returned `sequence`). Live events at or below that `sequence`
//! are duplicates the client drops. When the position cannot be continued, `reset` tells the
//! client to start again from a snapshot (`GetList`, `GetSession`), which carries its own
//! `sequence`; the answer's `sequence` is then the group's real position, never the client's
//! number echoed, so a client that drops live events at or below it drops none it needs.

use std::num::NonZeroUsize;

use pulse_bus::{PerEntityKind, Topic};
use pulse_proto::{
    events::v1::{Event, EventEnvelope},
    revoked_member, EventName,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{
    access::{authorize, Requester},
    result, Arguments, Caller, HubError, Services,
};
use crate::{
    node::{History, HistoryCursor},
    protocol::EventPayload,
};

/// Events per call: bounds one result (about half a megabyte of typical list events).
const MAX_EVENTS: NonZeroUsize = NonZeroUsize::new(500).expect("non-zero");

/// The result of `GetMissedEvents`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MissedEvents {
    group: String,
    events: Vec<MissedEvent>,
    /// The position the client has reached: the last event read (events meant for others
    /// included, so paging moves past them), or `afterSequence`; after a reset, the group's
    /// newest retained sequence (0 when none is).
    sequence: u64,
    /// The events after `afterSequence` are no longer all retained, or `afterSequence` is ahead
    /// of the group: start from a snapshot.
    reset: bool,
    /// More events follow `sequence`.
    has_more: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MissedEvent {
    /// The live invocation's target.
    event: String,
    sequence: u64,
    occurred_at: String,
    /// The live invocation's argument, its `sequence` included.
    payload: Value,
}

/// Runs the method for a hub whose groups are `kind.topic(id)`, the id being the first argument
/// (`id_name` in errors). Authorized exactly as joining the group.
pub(super) async fn get_missed_events(
    services: &Services,
    caller: &Caller,
    args: &Arguments,
    kind: PerEntityKind,
    id_name: &str,
) -> Result<Option<Value>, HubError> {
    args.expect(2)?;
    let topic = kind.topic(args.id(0, id_name)?);
    let after = after_sequence(args, 1)?;
    catch_up(services, caller, topic, after).await
}

/// `GetMissedEvents(afterSequence)` on a hub whose connections are in one group of their own
/// (the caller's chat, goals, spend ...): that group.
pub(super) async fn get_missed_own_events(
    services: &Services,
    caller: &Caller,
    args: &Arguments,
    topic: Topic,
) -> Result<Option<Value>, HubError> {
    args.expect(1)?;
    let after = after_sequence(args, 0)?;
    catch_up(services, caller, topic, after).await
}

fn after_sequence(args: &Arguments, index: usize) -> Result<u64, HubError> {
    args.object(index, "afterSequence")
        .map_err(|_| HubError::BadArguments("afterSequence must be a non-negative integer".into()))
}

async fn catch_up(
    services: &Services,
    caller: &Caller,
    topic: Topic,
    after: u64,
) -> Result<Option<Value>, HubError> {
    authorize(services, Requester::of(caller), &caller.on_behalf(), topic).await?;
    let history = services
        .node
        .history(&topic, HistoryCursor::after(after), MAX_EVENTS)
        .await
        .map_err(|e| HubError::Unavailable(e.to_string()))?;
    result(&missed_events(caller, topic, history))
}

/// The page as the caller's connection would have received it live: without the events meant
/// for the others (`except_user_id`).
fn missed_events(caller: &Caller, topic: Topic, history: History) -> MissedEvents {
    if history.reset.is_some() {
        return reset(topic, history.newest);
    }
    let user = caller.identity.user_id;
    let mut events = Vec::with_capacity(history.events.len());
    for envelope in &history.events {
        let Some(event) = envelope.event.as_ref().filter(|e| e.kind().is_some()) else {
            continue;
        };
        // The caller may follow the group now, so a removal of theirs in the history was undone
        // later: what the group did in between is not theirs to see, but the snapshot is.
        if is_user(revoked_member(event), user) {
            return reset(topic, history.newest);
        }
        if is_user(envelope.except_user_id.as_deref(), user) {
            continue;
        }
        events.extend(as_received(envelope, event));
    }
    MissedEvents {
        group: topic.group(),
        events,
        sequence: history.sequence,
        reset: false,
        has_more: history.next.is_some(),
    }
}

/// No events: the client starts again from a snapshot; `newest` is where the group stands.
fn reset(topic: Topic, newest: u64) -> MissedEvents {
    MissedEvents {
        group: topic.group(),
        events: Vec::new(),
        sequence: newest,
        reset: true,
        has_more: false,
    }
}

fn is_user(id: Option<&str>, user: Uuid) -> bool {
    id.and_then(|id| Uuid::parse_str(id).ok()) == Some(user)
}

/// The event as the connection received it live: the invocation's target and its one argument,
/// the same [`EventPayload`] definition the live push serializes.
fn as_received(envelope: &EventEnvelope, event: &Event) -> Option<MissedEvent> {
    let payload = EventPayload {
        payload: event,
        sequence: envelope.sequence,
    };
    match serde_json::to_value(payload) {
        Ok(payload) => Some(MissedEvent {
            event: event.name()?.to_owned(),
            sequence: envelope.sequence,
            occurred_at: envelope.occurred_at.clone(),
            payload,
        }),
        Err(error) => {
            tracing::error!(sequence = envelope.sequence, %error, "cannot encode event");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use pulse_proto::lists::LIST;
    use std::sync::Arc;

    use pulse_auth::Identity;
    use pulse_proto::lists::v1::{event::Kind, CollaboratorRemoved, ItemDeleted, UserJoined};
    use serde_json::json;

    use super::*;
    use crate::{
        node::{outbound, EncodedEvent, EventEncoder},
        principal::{Principal, PrincipalKind},
        protocol::{HubMessage, MessageReader, Protocol},
        SignalrEncoder,
    };

    fn caller(user_id: Uuid, protocol: Protocol) -> Caller {
        let identity = Identity {
            user_id,
            name: "Ann".into(),
            roles: vec![],
            expires_at: i64::MAX,
        };
        let (outbound, _) = outbound(1 << 20);
        Caller::new(
            Arc::from("c1"),
            Principal {
                identity,
                kind: PrincipalKind::User,
            },
            "token",
            protocol,
            outbound,
            Arc::new(SignalrEncoder::new(protocol)),
        )
        .expect("caller")
    }

    fn envelope(sequence: u64, kind: Kind, except: Option<Uuid>) -> EventEnvelope {
        EventEnvelope {
            group: "list_x".into(),
            sequence,
            occurred_at: format!("2025-01-01T00:00:0{sequence}.000Z"),
            except_user_id: except.map(|u| u.to_string()),
            event: Some(Event::from(kind)),
        }
    }

    fn deleted(item_id: &str) -> Kind {
        Kind::ItemDeleted(ItemDeleted {
            event_type: "ItemDeleted".into(),
            item_id: item_id.into(),
            ..Default::default()
        })
    }

    fn page(events: Vec<EventEnvelope>, more: bool) -> History {
        let sequence = events.last().map_or(0, |e| e.sequence);
        let cursor = HistoryCursor::after(sequence);
        History {
            events,
            reset: None,
            sequence,
            newest: sequence,
            next: more.then_some(cursor),
        }
    }

    #[test]
    fn each_event_carries_the_argument_of_its_live_invocation_in_both_protocols() {
        let topic = LIST.topic(Uuid::new_v4());
        let history = || page(vec![envelope(4, deleted("i"), None)], true);
        let json = serde_json::to_value(missed_events(
            &caller(Uuid::new_v4(), Protocol::Json),
            topic,
            history(),
        ))
        .expect("json");
        assert_eq!(
            json,
            json!({
                "group": topic.group(),
                "events": [{
                    "event": "ItemDeleted",
                    "sequence": 4,
                    "occurredAt": "2025-01-01T00:00:04.000Z",
                    "payload": serde_json::to_value(deleted("i")).map(|mut payload| {
                        payload["sequence"] = json!(4);
                        payload
                    }).expect("payload"),
                }],
                "sequence": 4,
                "reset": false,
                "hasMore": true,
            })
        );
        // The very argument a live push of the same event carries, in either protocol.
        for protocol in [Protocol::Json, Protocol::MessagePack] {
            let envelope = envelope(4, deleted("i"), None);
            let payload = Event::from(deleted("i"));
            let frame = SignalrEncoder::new(protocol)
                .encode(EncodedEvent {
                    envelope: &envelope,
                    payload: &payload,
                })
                .expect("encodes");
            let mut reader = MessageReader::new(protocol, usize::MAX);
            reader.push(frame.bytes());
            let Ok(Some(HubMessage::Invocation {
                target, arguments, ..
            })) = reader.next_message()
            else {
                panic!("{protocol:?}: a live push is an invocation");
            };
            assert_eq!(target, json["events"][0]["event"], "{protocol:?}");
            assert_eq!(
                arguments,
                vec![json["events"][0]["payload"].clone()],
                "{protocol:?}"
            );
        }
    }

    #[test]
    fn events_for_the_others_are_left_out_but_passed() {
        let ann = Uuid::new_v4();
        let joined = Kind::UserJoined(UserJoined::default());
        let history = page(
            vec![
                envelope(1, deleted("a"), None),
                envelope(2, joined.clone(), Some(ann)),
                envelope(3, joined, Some(Uuid::new_v4())),
            ],
            false,
        );
        let missed = missed_events(
            &caller(ann, Protocol::Json),
            LIST.topic(Uuid::new_v4()),
            history,
        );
        let sequences: Vec<u64> = missed.events.iter().map(|e| e.sequence).collect();
        assert_eq!((sequences, missed.sequence), (vec![1, 3], 3));
    }

    #[test]
    fn a_reset_or_a_removal_of_the_caller_answers_with_no_events() {
        let ann = Uuid::new_v4();
        let topic = LIST.topic(Uuid::new_v4());
        let removal = Kind::CollaboratorRemoved(CollaboratorRemoved {
            user_id: ann.to_string(),
            ..Default::default()
        });
        let removed = page(
            vec![envelope(5, removal, None), envelope(6, deleted("a"), None)],
            true,
        );
        let mut expired = page(vec![envelope(6, deleted("a"), None)], false);
        expired.reset = Some(crate::node::ResetReason::Expired);
        for mut history in [removed, expired] {
            // The group went on meanwhile: the answer names where it stands, not the request.
            history.newest = 9;
            let missed = missed_events(&caller(ann, Protocol::Json), topic, history);
            assert_eq!(
                (
                    missed.reset,
                    missed.events.len(),
                    missed.sequence,
                    missed.has_more
                ),
                (true, 0, 9, false)
            );
        }
    }
}
