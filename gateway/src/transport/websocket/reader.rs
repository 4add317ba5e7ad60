//! Reads a client's messages off its socket: frames reassembled into messages, pings and the
//! close handshake reported to the writer, which alone writes to the socket.
//!
//! An idle connection holds no read buffer: one is allocated when the socket has bytes and
//! released once every byte read was a complete frame. SignalR clients send little (a handshake,
//! invocations, pings every 15 s), so most connections hold nothing most of the time.

use bytes::{Bytes, BytesMut};
use tokio::net::tcp::OwnedReadHalf;

use super::codec::{self, ClientFrame, FrameError, Opcode};

/// Bytes asked of the socket at once when no frame is partly read.
const READ_CHUNK: usize = 1024;

/// What a client sent, as the connection sees it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Incoming {
    /// A complete text (UTF-8, checked) or binary message.
    Message(Bytes),
    /// A ping: the writer answers it with a pong carrying `0`.
    Ping(Bytes),
    /// The client started the close handshake, with this status code if it gave one that a
    /// reply may echo.
    Close(Option<u16>),
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("socket closed without a close frame")]
    Eof,
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("fragments out of order")]
    Fragments,
    #[error("text message is not UTF-8")]
    NotUtf8,
}

impl ReadError {
    /// The client's message (or frame) is over the size limit.
    pub(super) fn is_too_long(&self) -> bool {
        matches!(self, Self::Frame(FrameError::TooLong(_)))
    }
}

/// The read half of a socket and what was read from it but not yet taken.
#[derive(Debug)]
pub(super) struct ClientReader {
    io: OwnedReadHalf,
    /// Bytes read and not yet parsed: empty and unallocated between messages.
    buf: BytesMut,
    /// The fragments of a message not yet finished, and whether it is text.
    partial: Option<(bool, BytesMut)>,
    /// Largest message taken.
    limit: usize,
}

impl ClientReader {
    /// `read_ahead`: bytes the HTTP server read past the upgrade request (a client may send its
    /// first frames right behind it).
    pub(super) fn new(io: OwnedReadHalf, read_ahead: Bytes, limit: usize) -> Self {
        Self {
            io,
            buf: BytesMut::from(&read_ahead[..]),
            partial: None,
            limit,
        }
    }

    /// Largest message taken.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// The client's next message, ping or close.
    pub(super) async fn next(&mut self) -> Result<Incoming, ReadError> {
        loop {
            while let Some(frame) = codec::next_frame(&mut self.buf, self.limit)? {
                if let Some(incoming) = self.take(frame)? {
                    self.release_if_empty();
                    return Ok(incoming);
                }
            }
            self.fill().await?;
        }
    }

    /// Reads what the socket has, waiting for it without a buffer.
    async fn fill(&mut self) -> Result<(), ReadError> {
        loop {
            self.release_if_empty();
            self.io.readable().await?;
            if self.buf.len() == self.buf.capacity() {
                self.buf.reserve(READ_CHUNK);
            }
            match self.io.try_read_buf(&mut self.buf) {
                Ok(0) => return Err(ReadError::Eof),
                Ok(_) => return Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Lets go of the buffer when nothing in it waits to be parsed.
    fn release_if_empty(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }

    /// A frame's part in the message it belongs to; `None` while the message is unfinished.
    fn take(&mut self, frame: ClientFrame) -> Result<Option<Incoming>, ReadError> {
        let ClientFrame {
            fin,
            opcode,
            payload,
        } = frame;
        let (text, message) = match opcode {
            Opcode::Ping => return Ok(Some(Incoming::Ping(payload.freeze()))),
            Opcode::Pong => return Ok(None),
            Opcode::Close => return Ok(Some(Incoming::Close(close_code(&payload)))),
            Opcode::Text | Opcode::Binary if self.partial.is_some() => {
                return Err(ReadError::Fragments)
            }
            Opcode::Text | Opcode::Binary => (opcode == Opcode::Text, payload),
            Opcode::Continuation => {
                let (text, mut message) = self.partial.take().ok_or(ReadError::Fragments)?;
                let total = message.len().saturating_add(payload.len());
                if total > self.limit {
                    return Err(FrameError::TooLong(total as u64).into());
                }
                message.unsplit(payload);
                (text, message)
            }
        };
        if !fin {
            self.partial = Some((text, message));
            return Ok(None);
        }
        if text && std::str::from_utf8(&message).is_err() {
            return Err(ReadError::NotUtf8);
        }
        Ok(Some(Incoming::Message(message.freeze())))
    }
}

/// The status code of a close frame's payload, if it carries one a reply may echo: codes
/// RFC 6455 reserves for "no status" and the like (1004–1006, 1015) or leaves undefined are not
/// sent back.
fn close_code(payload: &[u8]) -> Option<u16> {
    let [high, low, ..] = payload else {
        return None;
    };
    let code = u16::from_be_bytes([*high, *low]);
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999).then_some(code)
}

#[cfg(test)]
mod tests {
    use tokio::{
        io::AsyncWriteExt,
        net::{TcpListener, TcpStream},
    };

    use super::*;

    #[test]
    fn only_close_codes_a_reply_may_carry_are_echoed() {
        assert_eq!(close_code(&[0x03, 0xE8]), Some(1000));
        assert_eq!(close_code(&[0x0F, 0xA0, b'x']), Some(4000));
        for reserved in [1005u16, 1006, 1015, 999, 2000, 5000] {
            assert_eq!(close_code(&reserved.to_be_bytes()), None, "{reserved}");
        }
        assert_eq!(close_code(&[0x03]), None);
    }

    /// A masked client frame.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mask = [0x37, 0xFA, 0x21, 0x3D];
        let mut wire = vec![first, 0x80 | payload.len() as u8];
        wire.extend_from_slice(&mask);
        wire.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, k)| b ^ k));
        wire
    }

    /// A reader on one end of a loopback connection, and the other end as the client.
    async fn pair(read_ahead: &[u8], limit: usize) -> (ClientReader, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let client = TcpStream::connect(listener.local_addr().expect("bound"))
            .await
            .expect("connects");
        let (server, _) = listener.accept().await.expect("accepts");
        let (read, _write) = server.into_split();
        let reader = ClientReader::new(read, Bytes::copy_from_slice(read_ahead), limit);
        (reader, client)
    }

    #[tokio::test]
    async fn messages_are_read_whole_however_the_bytes_arrive() {
        let mut wire = frame(0x01, b"{\"type\":");
        wire.extend(frame(0x89, b"hi"));
        wire.extend(frame(0x80, b"6}\x1e"));
        wire.extend(frame(0x82, &[0xC0]));
        wire.extend(frame(0x88, &[0x03, 0xE9]));
        let (mut reader, mut client) = pair(&wire[..3], 1024).await;
        let rest = wire[3..].to_vec();
        let writing = tokio::spawn(async move {
            for byte in rest {
                client.write_all(&[byte]).await.expect("writes");
            }
            client
        });
        assert_eq!(
            reader.next().await.expect("ping"),
            Incoming::Ping(Bytes::from_static(b"hi")),
            "a control frame may come between fragments"
        );
        assert_eq!(
            reader.next().await.expect("text"),
            Incoming::Message(Bytes::from_static(b"{\"type\":6}\x1e"))
        );
        assert_eq!(
            reader.next().await.expect("binary"),
            Incoming::Message(Bytes::from_static(&[0xC0]))
        );
        assert_eq!(
            reader.next().await.expect("close"),
            Incoming::Close(Some(1001))
        );
        drop(writing.await.expect("wrote"));
        assert!(matches!(reader.next().await, Err(ReadError::Eof)));
    }

    #[tokio::test]
    async fn an_idle_reader_holds_no_buffer() {
        let (mut reader, mut client) = pair(&[], 1024).await;
        client
            .write_all(&frame(0x81, b"{}\x1e"))
            .await
            .expect("writes");
        assert!(matches!(reader.next().await, Ok(Incoming::Message(_))));
        assert_eq!(reader.buf.capacity(), 0, "the buffer went with the message");
        let pending = tokio::time::timeout(std::time::Duration::from_millis(20), reader.next());
        assert!(pending.await.is_err(), "nothing more was sent");
        assert_eq!(reader.buf.capacity(), 0, "waiting allocates nothing");
    }

    #[tokio::test]
    async fn a_fragmented_message_over_the_limit_is_refused() {
        let mut wire = frame(0x01, &[b'a'; 60]);
        wire.extend(frame(0x80, &[b'a'; 60]));
        let (mut reader, _client) = pair(&wire, 100).await;
        let error = reader.next().await.expect_err("over the limit");
        assert!(error.is_too_long(), "{error}");
    }

    #[tokio::test]
    async fn broken_messages_are_errors() {
        let cases: [Vec<u8>; 3] = [
            frame(0x80, b"continuation of nothing"),
            [frame(0x01, b"a"), frame(0x81, b"b")].concat(),
            frame(0x81, &[0xFF, 0xFE]),
        ];
        for wire in cases {
            let (mut reader, _client) = pair(&wire, 1024).await;
            let error = reader.next().await.expect_err("refused");
            assert!(
                matches!(error, ReadError::Fragments | ReadError::NotUtf8),
                "{error}"
            );
        }
    }
}
