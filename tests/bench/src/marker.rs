//! The stamp every measured message carries, in an item's name for Pulse and
//! at the start of the payload for the peer: `bench:<run>:<index>:<sent µs>`.
//! Receivers find it by a substring search rather than parsing JSON, so the
//! load generator stays cheap next to the servers it measures.

use std::time::{SystemTime, UNIX_EPOCH};

const PREFIX: &str = "\"bench:";

/// Microseconds since the Unix epoch: the servers never see this clock, the
/// bench stamps and reads it, and both ends run on this machine.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The text to embed (without the opening quote, which JSON adds).
pub fn stamp(run: u32, index: u32) -> String {
    format!("bench:{run}:{index}:{}", now_micros())
}

/// One stamp found in a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub run: u32,
    pub index: u32,
    pub sent: u64,
}

/// Every stamp in `text` (a frame may batch several messages).
pub fn stamps(text: &str) -> impl Iterator<Item = Stamp> + '_ {
    text.match_indices(PREFIX).filter_map(move |(at, _)| {
        let mut numbers = text[at + PREFIX.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .take(3);
        Some(Stamp {
            run: numbers.next()?.parse().ok()?,
            index: numbers.next()?.parse().ok()?,
            sent: numbers.next()?.parse().ok()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_stamp_in_a_batched_frame() {
        let frame = "{\"type\":1,\"arguments\":[{\"item\":{\"name\":\"bench:2:7:123\"}}]}\u{1e}\
                     {\"type\":1,\"arguments\":[{\"item\":{\"name\":\"bench:2:8:125\"}}]}\u{1e}";
        let found: Vec<Stamp> = stamps(frame).collect();
        assert_eq!(
            found,
            [
                Stamp {
                    run: 2,
                    index: 7,
                    sent: 123
                },
                Stamp {
                    run: 2,
                    index: 8,
                    sent: 125
                }
            ]
        );
    }

    #[test]
    fn reads_a_padded_peer_payload() {
        let frame = format!("42[\"message\",\"{} xxxx\"]", "bench:1:0:99");
        assert_eq!(stamps(&frame).count(), 1);
    }
}
