//! Writes WebSocket frames to a socket's write half: each frame's header and its payload (the
//! shared, already encoded event) go out in one vectored write, several frames in one system
//! call, with nothing copied in between.
//!
//! Frames are handed over first and written by [`FrameWriter::flush`], which keeps its progress
//! in the writer: a flush cut short (the stall timeout drops it) leaves the rest of a frame to
//! the next flush, so a frame is never cut in the middle and nothing handed over is skipped.

use std::{
    io::IoSlice,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use tokio::{io::AsyncWrite, net::tcp::OwnedWriteHalf};

use super::codec::{Header, Opcode};
use crate::node::Frame;

/// Most frames in one system call (two slices each, built on the stack for each call).
const MAX_FRAMES_PER_WRITE: usize = 32;
/// Frames the writer keeps room for between writes: one delivery at a time, the usual case,
/// allocates nothing; a larger batch's room is given back.
const KEPT_CAPACITY: usize = 4;

/// The writing half of a socket.
#[derive(Debug)]
pub(super) struct FrameWriter {
    io: OwnedWriteHalf,
    /// Frames handed over and not yet wholly written, oldest first.
    pending: Vec<(Header, Bytes)>,
    /// Bytes of `pending`'s first frames already written.
    sent: usize,
}

impl FrameWriter {
    pub(super) fn new(io: OwnedWriteHalf) -> Self {
        Self {
            io,
            pending: Vec::new(),
            sent: 0,
        }
    }

    /// Hands over a frame of `opcode` (a control frame, or a data frame the caller made).
    pub(super) fn push(&mut self, opcode: Opcode, payload: Bytes) {
        self.pending
            .push((Header::new(opcode, payload.len()), payload));
    }

    /// Hands over a message frame.
    pub(super) fn push_frame(&mut self, frame: Frame) {
        let opcode = match frame.is_text() {
            true => Opcode::Text,
            false => Opcode::Binary,
        };
        self.push(opcode, frame.into_bytes());
    }

    /// Writes every frame handed over. Cancel-safe: what a dropped flush did not write, the
    /// next one writes.
    pub(super) async fn flush(&mut self) -> std::io::Result<()> {
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while !self.pending.is_empty() {
            let mut slices = [IoSlice::new(&[]); 2 * MAX_FRAMES_PER_WRITE];
            let mut count = 0;
            let mut skip = self.sent;
            let parts = self
                .pending
                .iter()
                .take(MAX_FRAMES_PER_WRITE)
                .flat_map(|(header, payload)| [header.as_bytes(), &payload[..]]);
            for part in parts {
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                slices[count] = IoSlice::new(&part[skip..]);
                skip = 0;
                count += 1;
            }
            let written = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]))?;
            if written == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.sent += written;
            let done = self
                .pending
                .iter()
                .take_while(|(header, payload)| {
                    let len = header.as_bytes().len() + payload.len();
                    let whole = self.sent >= len;
                    if whole {
                        self.sent -= len;
                    }
                    whole
                })
                .count();
            self.pending.drain(..done);
        }
        self.pending.shrink_to(KEPT_CAPACITY);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::StreamExt;
    use tokio::net::{TcpListener, TcpSocket, TcpStream};
    use tokio_tungstenite::{
        tungstenite::{
            protocol::{CloseFrame, Role},
            Message,
        },
        WebSocketStream,
    };

    use std::time::Duration;

    use super::*;

    /// A writer on one end of a loopback connection; the other end read as a WebSocket client.
    async fn pair() -> (FrameWriter, WebSocketStream<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        // A small receive window, so a client that does not read blocks the writer soon.
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("small buffer");
        let client = socket
            .connect(listener.local_addr().expect("bound"))
            .await
            .expect("connects");
        let (server, _) = listener.accept().await.expect("accepts");
        let (_read, write) = server.into_split();
        let client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        (FrameWriter::new(write), client)
    }

    /// Everything the client reads until the server's Close and the end of the stream.
    async fn read_all(client: &mut WebSocketStream<TcpStream>) -> Vec<Message> {
        let mut read = Vec::new();
        while let Some(Ok(message)) = client.next().await {
            read.push(message);
        }
        read
    }

    fn close() -> Message {
        Message::Close(Some(CloseFrame {
            code: 1000.into(),
            reason: "".into(),
        }))
    }

    #[tokio::test]
    async fn frames_written_together_are_read_one_by_one_by_a_client() {
        let (mut writer, mut client) = pair().await;
        let big = "x".repeat(70_000);
        let frames = [
            Frame::text(Bytes::from_static(b"{\"type\":6}\x1e")),
            Frame::binary(Bytes::from_static(&[1, 2, 3])),
            Frame::text(Bytes::from(big.clone())),
            Frame::text(Bytes::new()),
        ];
        for frame in frames {
            writer.push_frame(frame);
        }
        writer.flush().await.expect("writes");
        writer.push_frame(Frame::binary(Bytes::from_static(b"one")));
        writer.push(Opcode::Close, Bytes::from_static(&[0x03, 0xE8]));
        writer.flush().await.expect("writes");
        assert_eq!(
            writer.pending.capacity(),
            KEPT_CAPACITY,
            "room kept is small"
        );
        // The server ends the TCP connection after its Close, as the serving loop does.
        drop(writer);
        assert_eq!(
            read_all(&mut client).await,
            [
                Message::text("{\"type\":6}\u{1e}"),
                Message::binary(vec![1, 2, 3]),
                Message::text(big),
                Message::text(""),
                Message::binary(b"one".to_vec()),
                close(),
            ]
        );
    }

    #[tokio::test]
    async fn a_flush_cut_short_is_finished_by_the_next_without_cutting_a_frame() {
        let (mut writer, mut client) = pair().await;
        let frames: Vec<Frame> = (0..=255u8)
            .map(|i| Frame::binary(Bytes::from(vec![i; 40_009])))
            .collect();
        for frame in frames.clone() {
            writer.push_frame(frame);
        }
        let cut = tokio::time::timeout(Duration::from_millis(100), writer.flush()).await;
        assert!(
            cut.is_err(),
            "10 MB do not fit in the socket while nobody reads"
        );
        assert!(
            writer.sent > 0 || writer.pending.len() < frames.len(),
            "some went out"
        );
        writer.push(Opcode::Close, Bytes::from_static(&[0x03, 0xE8]));
        let reading = tokio::spawn(async move { read_all(&mut client).await });
        writer.flush().await.expect("the rest is written");
        drop(writer);
        let read = reading.await.expect("reads");
        let expected: Vec<Message> = frames
            .iter()
            .map(|frame| Message::binary(frame.bytes().to_vec()))
            .chain([close()])
            .collect();
        assert_eq!(read.len(), expected.len());
        assert!(read == expected, "every frame whole and in order");
    }
}
