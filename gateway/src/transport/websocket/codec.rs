//! RFC 6455 framing, server side: the header of each frame we send, and the frames a client
//! sends, parsed and unmasked.
//!
//! The gateway frames its own messages (rather than handing them to a WebSocket library's
//! buffer) so a shared event payload goes to the socket as it is, behind a header of at most
//! ten bytes, in one vectored write: no copy per recipient. No extension is negotiated, so the
//! reserved bits must be clear.

use bytes::{Buf, BytesMut};

/// A frame's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn code(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// Close, ping and pong: never fragmented, at most 125 bytes.
    pub(super) fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// The longest header a server frame has: two bytes and a 64-bit length.
pub(super) const MAX_HEADER: usize = 10;
/// The longest payload of a control frame.
const MAX_CONTROL_PAYLOAD: usize = 125;

/// The header of an unfragmented, unmasked server frame carrying `len` payload bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Header {
    bytes: [u8; MAX_HEADER],
    len: u8,
}

impl Header {
    pub(super) fn new(opcode: Opcode, payload_len: usize) -> Self {
        let mut bytes = [0; MAX_HEADER];
        bytes[0] = 0x80 | opcode.code();
        let len = match payload_len {
            0..=125 => {
                bytes[1] = payload_len as u8;
                2
            }
            126..=0xFFFF => {
                bytes[1] = 126;
                bytes[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
                4
            }
            _ => {
                bytes[1] = 127;
                bytes[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
                10
            }
        };
        Self { bytes, len }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Why a client's bytes are not a WebSocket frame we take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum FrameError {
    #[error("reserved bits set without a negotiated extension")]
    Reserved,
    #[error("unknown opcode {0:#x}")]
    UnknownOpcode(u8),
    #[error("client frame not masked")]
    Unmasked,
    #[error("control frame fragmented or over 125 bytes")]
    BadControl,
    /// The frame or the message it belongs to is longer than the limit.
    #[error("message of {0} bytes or more is over the limit")]
    TooLong(u64),
}

/// One complete client frame, unmasked.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ClientFrame {
    pub(super) fin: bool,
    pub(super) opcode: Opcode,
    pub(super) payload: BytesMut,
}

/// Takes the first complete frame off `buf`. `Ok(None)` asks for more bytes (`buf` is left as
/// it was); `limit` bounds a data frame's payload before any of it is read.
pub(super) fn next_frame(
    buf: &mut BytesMut,
    limit: usize,
) -> Result<Option<ClientFrame>, FrameError> {
    let Some(&[first, second]) = buf.get(..2) else {
        return Ok(None);
    };
    if first & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    let fin = first & 0x80 != 0;
    let opcode = Opcode::from_code(first & 0x0F).ok_or(FrameError::UnknownOpcode(first & 0x0F))?;
    if second & 0x80 == 0 {
        return Err(FrameError::Unmasked);
    }
    let (length_bytes, short) = match second & 0x7F {
        126 => (2, None),
        127 => (8, None),
        short => (0, Some(u64::from(short))),
    };
    let Some(extended) = buf.get(2..2 + length_bytes) else {
        return Ok(None);
    };
    let payload_len = short.unwrap_or_else(|| {
        extended
            .iter()
            .fold(0u64, |len, &byte| (len << 8) | u64::from(byte))
    });
    if opcode.is_control() && (!fin || payload_len > MAX_CONTROL_PAYLOAD as u64) {
        return Err(FrameError::BadControl);
    }
    let payload_len = usize::try_from(payload_len)
        .ok()
        .filter(|&len| len <= limit)
        .ok_or(FrameError::TooLong(payload_len))?;
    let header_len = 2 + length_bytes + 4;
    let Some(mask) = buf.get(header_len - 4..header_len) else {
        return Ok(None);
    };
    let mask = [mask[0], mask[1], mask[2], mask[3]];
    // `payload_len <= limit`, which is far below `usize::MAX`.
    let frame_len = header_len + payload_len;
    if buf.len() < frame_len {
        // Room for the rest of this frame, once: the reader fills it without growing again.
        buf.reserve(frame_len - buf.len());
        return Ok(None);
    }
    buf.advance(header_len);
    let mut payload = buf.split_to(payload_len);
    unmask(&mut payload, mask);
    Ok(Some(ClientFrame {
        fin,
        opcode,
        payload,
    }))
}

/// XORs `payload` with the client's masking key, four bytes at a time where it can.
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = payload.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let masked = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask) {
        *byte ^= key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame as a browser sends it: masked with `mask`.
    fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut frame = vec![first];
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, k)| b ^ k));
        frame
    }

    #[test]
    fn server_headers_use_the_shortest_length_encoding() {
        assert_eq!(Header::new(Opcode::Text, 5).as_bytes(), [0x81, 5]);
        assert_eq!(Header::new(Opcode::Binary, 125).as_bytes(), [0x82, 125]);
        assert_eq!(
            Header::new(Opcode::Text, 126).as_bytes(),
            [0x81, 126, 0, 126]
        );
        assert_eq!(
            Header::new(Opcode::Text, 0xFFFF).as_bytes(),
            [0x81, 126, 0xFF, 0xFF]
        );
        assert_eq!(
            Header::new(Opcode::Close, 0x1_0000).as_bytes(),
            [0x88, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }

    #[test]
    fn server_frames_read_back_with_tungstenite() {
        for len in [0, 1, 125, 126, 670, 0xFFFF, 0x1_0000] {
            let payload = vec![b'a'; len];
            let mut wire = Header::new(Opcode::Text, len).as_bytes().to_vec();
            wire.extend_from_slice(&payload);
            let mut cursor = std::io::Cursor::new(wire);
            let frame =
                tokio_tungstenite::tungstenite::protocol::frame::FrameHeader::parse(&mut cursor)
                    .expect("parses")
                    .expect("complete");
            assert_eq!(frame.1, len as u64);
            assert!(frame.0.is_final);
        }
    }

    #[test]
    fn a_masked_frame_is_taken_whole_and_unmasked() {
        for len in [0, 3, 4, 5, 125, 126, 700, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut buf = BytesMut::from(&client_frame(0x82, &payload, [1, 2, 3, 4])[..]);
            buf.extend_from_slice(b"next");
            let frame = next_frame(&mut buf, 1 << 20)
                .expect("valid")
                .expect("complete");
            assert_eq!(frame.opcode, Opcode::Binary);
            assert!(frame.fin);
            assert_eq!(&frame.payload[..], &payload[..], "len {len}");
            assert_eq!(&buf[..], b"next", "only the frame is taken");
        }
    }

    #[test]
    fn a_partial_frame_asks_for_more_and_takes_nothing() {
        let wire = client_frame(0x81, &[b'x'; 300], [9, 8, 7, 6]);
        for cut in 0..wire.len() {
            let mut buf = BytesMut::from(&wire[..cut]);
            assert_eq!(next_frame(&mut buf, 1024), Ok(None), "cut at {cut}");
            assert_eq!(&buf[..], &wire[..cut]);
        }
        let mut buf = BytesMut::from(&wire[..]);
        assert!(next_frame(&mut buf, 1024).expect("valid").is_some());
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_from_its_header() {
        let wire = client_frame(0x81, &[b'x'; 200], [0; 4]);
        let mut buf = BytesMut::from(&wire[..4]);
        assert_eq!(next_frame(&mut buf, 199), Err(FrameError::TooLong(200)));
        let mut huge =
            BytesMut::from(&[0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF][..]);
        assert_eq!(
            next_frame(&mut huge, 1024),
            Err(FrameError::TooLong(u64::MAX))
        );
    }

    #[test]
    fn frames_a_server_must_refuse_are_errors() {
        let cases: [(&[u8], FrameError); 5] = [
            (&[0x81, 0x00], FrameError::Unmasked),
            (&[0xC1, 0x80, 0, 0, 0, 0], FrameError::Reserved),
            (&[0x83, 0x80, 0, 0, 0, 0], FrameError::UnknownOpcode(3)),
            (&[0x09, 0x80, 0, 0, 0, 0], FrameError::BadControl),
            (&[0x89, 0xFE, 0, 126], FrameError::BadControl),
        ];
        for (wire, error) in cases {
            assert_eq!(next_frame(&mut BytesMut::from(wire), 1024), Err(error));
        }
    }
}
