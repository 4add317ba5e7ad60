//! Proptest strategies shared by the protocol's property tests (the bounded fuzzing that runs
//! with every `cargo test`): plausible garbage for each parser, and every message shape the codecs
//! must carry unchanged.

use proptest::prelude::*;
use serde_json::Value;

use super::{CompletionOutcome, HubMessage, Protocol};

/// Random bytes mixed with JSON and SignalR tokens, so inputs get past the first byte of the
/// parsers often enough to exercise them.
pub fn byte_soup() -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"\x1e",
        b"\"type\":",
        b"1",
        b"6",
        b"-",
        b"1e999",
        b"null",
        b"\\u00",
        b"\xff",
        b"\"invocationId\":\"0\"",
        b"\"target\":\"T\"",
        b"\"arguments\":[",
        b"\"protocol\":\"json\"",
        b"\"version\":",
    ];
    let chunk = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..8),
        prop::sample::select(TOKENS).prop_map(<[u8]>::to_vec),
    ];
    prop::collection::vec(chunk, 0..32).prop_map(|chunks| chunks.concat())
}

/// Valid records with random bytes spliced in, mutated or cut off, plus raw MessagePack
/// markers (huge lengths, deep nesting, extensions), so the decoder sees plausible garbage.
pub fn messagepack_soup() -> impl Strategy<Value = Vec<u8>> {
    const MARKERS: &[&[u8]] = &[
        &[0x05, 0xdd, 0xff, 0xff, 0xff, 0xff],
        &[0x06, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91],
        &[0x04, 0xc7, 0xff, 0x01, 0x00],
        &[0xff, 0xff, 0xff, 0xff, 0x0f],
        &[0x03, 0x92, 0x07, 0xc0],
    ];
    let record = || message().prop_map(|message| Protocol::MessagePack.encode(&message).to_vec());
    let chunk = prop_oneof![
        record(),
        (record(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut bytes, at, byte)| {
            let at = at.index(bytes.len());
            bytes[at] = byte;
            bytes
        }),
        prop::collection::vec(any::<u8>(), 0..8),
        prop::sample::select(MARKERS).prop_map(<[u8]>::to_vec),
    ];
    prop::collection::vec(chunk, 0..8).prop_map(|chunks| chunks.concat())
}

/// `bytes` cut into frames at the given points (in any order, duplicates allowed).
pub fn split<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
    points.push(bytes.len());
    points.sort_unstable();
    let mut start = 0;
    points
        .into_iter()
        .map(|end| {
            let frame = &bytes[start..end];
            start = end;
            frame
        })
        .collect()
}

pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Ids the protocol can carry unchanged: an empty id means "none" where one is optional.
pub fn id() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("non-empty", |id| !id.is_empty())
}

pub fn message() -> impl Strategy<Value = HubMessage> {
    let arguments = || prop::collection::vec(value(), 0..4);
    let stream_ids = || prop::collection::vec(id(), 0..3);
    let outcome = prop_oneof![
        Just(CompletionOutcome::Void),
        value().prop_map(CompletionOutcome::Result),
        id().prop_map(CompletionOutcome::Error),
    ];
    prop_oneof![
        (
            prop::option::of(id()),
            any::<String>(),
            arguments(),
            stream_ids()
        )
            .prop_map(|(invocation_id, target, arguments, stream_ids)| {
                HubMessage::Invocation {
                    invocation_id,
                    target,
                    arguments,
                    stream_ids,
                }
            }),
        (any::<String>(), value()).prop_map(|(invocation_id, item)| HubMessage::StreamItem {
            invocation_id,
            item
        }),
        (any::<String>(), outcome).prop_map(|(invocation_id, outcome)| {
            HubMessage::Completion {
                invocation_id,
                outcome,
            }
        }),
        (id(), any::<String>(), arguments(), stream_ids()).prop_map(
            |(invocation_id, target, arguments, stream_ids)| HubMessage::StreamInvocation {
                invocation_id,
                target,
                arguments,
                stream_ids,
            }
        ),
        any::<String>().prop_map(|invocation_id| HubMessage::CancelInvocation { invocation_id }),
        Just(HubMessage::Ping),
        (prop::option::of(id()), any::<bool>()).prop_map(|(error, allow_reconnect)| {
            HubMessage::Close {
                error,
                allow_reconnect,
            }
        }),
        any::<u64>().prop_map(|sequence_id| HubMessage::Ack { sequence_id }),
        any::<u64>().prop_map(|sequence_id| HubMessage::Sequence { sequence_id }),
    ]
}
