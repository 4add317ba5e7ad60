//! Just enough of SignalR's MessagePack protocol for a load-generating
//! client: frames are a varint length and a MessagePack array; the client
//! writes a join invocation and a ping, and reads message types, the join's
//! completion and the stamps inside pushed events without decoding them
//! whole, so the generator stays cheap beside the server it measures.

use anyhow::{anyhow, Result};
use rmp::{decode, encode};

use crate::marker::{self, Stamp};

/// The handshake request (JSON, as in every SignalR protocol).
pub const HANDSHAKE: &str = "{\"protocol\":\"messagepack\",\"version\":1}\u{1e}";

const INVOCATION: u8 = 1;
const COMPLETION: u8 = 3;
const PING: u8 = 6;
const CLOSE: u8 = 7;
/// A completion's result kind that carries an error.
const ERROR_RESULT: u8 = 1;

fn framed(body: Vec<u8>) -> Vec<u8> {
    let mut frame = Vec::with_capacity(body.len() + 5);
    let mut length = body.len();
    loop {
        let byte = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            frame.push(byte);
            break;
        }
        frame.push(byte | 0x80);
    }
    frame.extend(body);
    frame
}

/// `[1, {}, invocation_id, target, [argument], []]`, framed.
pub fn invocation(invocation_id: &str, target: &str, argument: &str) -> Vec<u8> {
    let mut body = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = encode::write_array_len(&mut body, 6);
    let _ = encode::write_uint(&mut body, u64::from(INVOCATION));
    let _ = encode::write_map_len(&mut body, 0);
    let _ = encode::write_str(&mut body, invocation_id);
    let _ = encode::write_str(&mut body, target);
    let _ = encode::write_array_len(&mut body, 1);
    let _ = encode::write_str(&mut body, argument);
    let _ = encode::write_array_len(&mut body, 0);
    framed(body)
}

/// `[6]`, framed.
pub fn ping() -> Vec<u8> {
    let mut body = Vec::new();
    let _ = encode::write_array_len(&mut body, 1);
    let _ = encode::write_uint(&mut body, u64::from(PING));
    framed(body)
}

/// The messages of one binary WebSocket frame (a frame may batch several).
pub fn messages(mut bytes: &[u8]) -> Result<Vec<&[u8]>> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        let mut length = 0usize;
        let mut used = 0;
        loop {
            let byte = *bytes
                .get(used)
                .ok_or_else(|| anyhow!("truncated length prefix"))?;
            length |= usize::from(byte & 0x7f) << (7 * used);
            used += 1;
            if byte & 0x80 == 0 {
                break;
            }
            if used == 5 {
                return Err(anyhow!("length prefix too long"));
            }
        }
        let end = used
            .checked_add(length)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| anyhow!("truncated message"))?;
        messages.push(&bytes[used..end]);
        bytes = &bytes[end..];
    }
    Ok(messages)
}

/// What a message is, for the client's purposes.
pub enum Kind {
    /// A completion: its invocation id, and whether it carries an error.
    Completion {
        invocation_id: String,
        error: bool,
    },
    Close,
    Other,
}

pub fn kind(mut message: &[u8]) -> Result<Kind> {
    let _ = decode::read_array_len(&mut message).map_err(|e| anyhow!("not an array: {e}"))?;
    let kind: u8 = decode::read_int(&mut message).map_err(|e| anyhow!("no type: {e}"))?;
    match kind {
        COMPLETION => {
            let headers =
                decode::read_map_len(&mut message).map_err(|e| anyhow!("headers: {e}"))?;
            if headers != 0 {
                return Err(anyhow!("completion with headers"));
            }
            let mut id = [0u8; 64];
            let invocation_id = decode::read_str(&mut message, &mut id)
                .map_err(|e| anyhow!("invocation id: {e:?}"))?
                .to_owned();
            let result: u8 =
                decode::read_int(&mut message).map_err(|e| anyhow!("result kind: {e}"))?;
            Ok(Kind::Completion {
                invocation_id,
                error: result == ERROR_RESULT,
            })
        }
        CLOSE => Ok(Kind::Close),
        _ => Ok(Kind::Other),
    }
}

/// Every stamp in a message: found as the text `bench:`, bounded by the
/// length in the MessagePack string header in front of it.
pub fn stamps(message: &[u8]) -> Vec<Stamp> {
    const NEEDLE: &[u8] = b"bench:";
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = message[from..]
        .windows(NEEDLE.len())
        .position(|window| window == NEEDLE)
        .map(|offset| from + offset)
    {
        from = at + NEEDLE.len();
        let length = match (
            at.checked_sub(2).map(|i| message[i]),
            message.get(at.wrapping_sub(1)),
        ) {
            (_, Some(&header)) if header & 0xe0 == 0xa0 => usize::from(header & 0x1f),
            (Some(0xd9), Some(&length)) => usize::from(length),
            _ => continue,
        };
        let Some(text) = message.get(at..at + length) else {
            continue;
        };
        let quoted = format!("\"{}", String::from_utf8_lossy(text));
        found.extend(marker::stamps(&quoted));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_invocation_reads_back_as_one_message() {
        let frame = invocation("join", "JoinList", "list");
        let all = messages(&frame).expect("frames");
        assert_eq!(all.len(), 1);
        assert!(matches!(kind(all[0]).expect("kind"), Kind::Other));
    }

    #[test]
    fn stamps_are_found_inside_strings_of_any_header() {
        let mut body = Vec::new();
        let _ = encode::write_array_len(&mut body, 2);
        let _ = encode::write_str(&mut body, "bench:1:2:300");
        let _ = encode::write_str(&mut body, &format!("bench:4:5:600{}", " ".repeat(40)));
        let stamps = stamps(&body);
        assert_eq!(stamps.len(), 2);
        assert_eq!(
            (stamps[0].run, stamps[0].index, stamps[0].sent),
            (1, 2, 300)
        );
        assert_eq!(
            (stamps[1].run, stamps[1].index, stamps[1].sent),
            (4, 5, 600)
        );
    }
}
