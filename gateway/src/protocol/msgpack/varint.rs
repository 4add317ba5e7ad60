//! The "binary message format": every MessagePack record is prefixed with its body length as an
//! unsigned VarInt (7 bits per byte, least significant group first, high bit = more bytes follow),
//! at most 5 bytes and at most 2 GB, exactly as the JS client's `BinaryMessageFormat` reads it.

use crate::protocol::error::ProtocolError;

/// A length prefix never takes more than five bytes.
const MAX_PREFIX_BYTES: usize = 5;
/// Largest body length the format allows (`ff ff ff ff 07`).
const MAX_LENGTH: u64 = 0x7FFF_FFFF;

/// What the start of a buffer says about the next record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// The body is `buffer[start..start + length]` (it may not have arrived yet).
    Found { start: usize, length: usize },
    /// The prefix itself is not complete yet.
    Incomplete,
}

/// Reads the length prefix at the start of `buffer`.
pub(crate) fn read_prefix(buffer: &[u8]) -> Result<Prefix, ProtocolError> {
    let mut length: u64 = 0;
    for (index, &byte) in buffer.iter().take(MAX_PREFIX_BYTES).enumerate() {
        length |= u64::from(byte & 0x7F) << (7 * index);
        if byte & 0x80 == 0 {
            if length > MAX_LENGTH {
                return Err(ProtocolError::MalformedBinary(
                    "Messages over 2GB in size are not supported.".to_owned(),
                ));
            }
            let length = usize::try_from(length)
                .map_err(|_| ProtocolError::MalformedBinary("length does not fit".to_owned()))?;
            return Ok(Prefix::Found {
                start: index + 1,
                length,
            });
        }
    }
    if buffer.len() >= MAX_PREFIX_BYTES {
        return Err(ProtocolError::MalformedBinary(
            "Messages over 2GB in size are not supported.".to_owned(),
        ));
    }
    Ok(Prefix::Incomplete)
}

/// Appends the prefix for a body of `length` bytes.
pub(crate) fn write_prefix(out: &mut Vec<u8>, mut length: usize) {
    loop {
        let low = u8::try_from(length & 0x7F).unwrap_or(0);
        length >>= 7;
        if length == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(length: usize) -> Vec<u8> {
        let mut out = Vec::new();
        write_prefix(&mut out, length);
        out
    }

    #[test]
    fn spec_examples_read_and_write() {
        assert_eq!(prefix(0x35), [0x35]);
        assert_eq!(prefix(5248), [0x80, 0x29]);
        assert_eq!(prefix(0x7FFF_FFFF), [0xff, 0xff, 0xff, 0xff, 0x07]);
        assert_eq!(
            read_prefix(&[0x80, 0x29, 0xaa]),
            Ok(Prefix::Found {
                start: 2,
                length: 5248
            })
        );
        assert_eq!(
            read_prefix(&[0xff, 0xff, 0xff, 0xff, 0x07]),
            Ok(Prefix::Found {
                start: 5,
                length: 0x7FFF_FFFF
            })
        );
    }

    #[test]
    fn a_prefix_cut_short_waits_for_more_bytes() {
        assert_eq!(read_prefix(&[]), Ok(Prefix::Incomplete));
        assert_eq!(read_prefix(&[0x80, 0x80]), Ok(Prefix::Incomplete));
    }

    #[test]
    fn lengths_over_2_gb_and_six_byte_prefixes_are_refused() {
        assert!(read_prefix(&[0xff, 0xff, 0xff, 0xff, 0x08]).is_err());
        assert!(read_prefix(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).is_err());
    }

    #[test]
    fn every_length_round_trips() {
        for length in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            0x7FFF_FFFF,
        ] {
            let bytes = prefix(length);
            assert_eq!(
                read_prefix(&bytes),
                Ok(Prefix::Found {
                    start: bytes.len(),
                    length
                })
            );
        }
    }
}
