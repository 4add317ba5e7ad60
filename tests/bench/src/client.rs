//! One load-generating client: a task that owns its connection, keeps it
//! alive the way the protocol's official client does, joins a group when
//! told, and records every stamped message it receives. SignalR for Pulse
//! (over a WebSocket, or over Server-Sent Events or long polling, see
//! [`crate::http_transport`]), Engine.IO v4 / Socket.IO v5 for the peer.

use std::{
    fmt,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::{anyhow, bail, Context, Result};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::{
    net::TcpStream,
    sync::{mpsc, oneshot},
    time::timeout,
};
use tokio_tungstenite::{
    tungstenite::{protocol::WebSocketConfig, Message},
    MaybeTlsStream, WebSocketStream,
};

use crate::{
    http_transport::{HttpConnection, HttpTransport},
    marker::{self, Stamp},
    msgpack,
};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const HUB: &str = "/hubs/shopping-list";
pub const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
const PING: &str = "{\"type\":6}\u{1e}";
/// What `@microsoft/signalr` sends by default, inside Pulse's 30 s client timeout.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Longest wait for one step of connecting.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for a join: long, because a server that serializes joins
/// answers the last of 10,000 only after all the others.
const JOIN_TIMEOUT: Duration = Duration::from_secs(600);
/// The client's own read buffer: small, so 19,000 clients stay light and
/// the generator does not zero-fill 128 KiB per read.
const READ_BUFFER: usize = 4096;

/// Which server a client speaks to.
#[derive(Debug, Clone)]
pub enum Target {
    /// Pulse's `/hubs/shopping-list`, with this user's token, in this
    /// SignalR protocol over this transport.
    Pulse {
        addr: SocketAddr,
        token: String,
        wire: Wire,
        transport: Transport,
    },
    Peer {
        addr: SocketAddr,
    },
}

/// The SignalR hub protocol a Pulse client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Json,
    MessagePack,
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "SignalR JSON",
            Self::MessagePack => "SignalR MessagePack",
        })
    }
}

/// What carries a Pulse client's SignalR messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSockets,
    Http(HttpTransport),
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WebSockets => f.write_str("WebSocket"),
            Self::Http(transport) => fmt::Display::fmt(transport, f),
        }
    }
}

/// Counters every client of a run adds to, read while waiting for deliveries.
#[derive(Debug, Default)]
pub struct Tally {
    /// Added to through [`Tally::stamped`] only, so waiters hear of every change.
    pub stamps: AtomicU64,
    /// Told whenever `stamps` grows.
    stamped: tokio::sync::Notify,
    /// Bytes of the last stamped frame divided by the stamps it held.
    pub frame_bytes: AtomicUsize,
    pub failed: AtomicUsize,
}

impl Tally {
    /// Counts stamps received and wakes whoever waits for a count.
    fn stamped(&self, count: usize) {
        self.stamps.fetch_add(count as u64, Ordering::Relaxed);
        self.stamped.notify_waiters();
    }

    /// Waits until at least `expected` stamps were counted, at most `limit`; whether they were.
    pub async fn reached(&self, expected: u64, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let stamped = self.stamped.notified();
            tokio::pin!(stamped);
            // Registered before the count is read, so a stamp counted in between still wakes it.
            stamped.as_mut().enable();
            if self.stamps.load(Ordering::Relaxed) >= expected {
                return true;
            }
            if tokio::time::timeout_at(deadline, stamped).await.is_err() {
                return self.stamps.load(Ordering::Relaxed) >= expected;
            }
        }
    }
}

/// One received stamp and its send-to-arrival time.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub stamp: Stamp,
    pub latency_micros: u64,
}

enum Command {
    Join {
        group: String,
        reply: oneshot::Sender<Result<()>>,
    },
    Send(String),
    Report(oneshot::Sender<Vec<Arrival>>),
}

/// A handle to a connected client's task; dropping it closes the connection.
pub struct Client {
    commands: mpsc::Sender<Command>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Connects (negotiate, transport, handshake or Socket.IO connect) and
    /// starts the client's task.
    pub async fn connect(
        target: &Target,
        http: &reqwest::Client,
        tally: Arc<Tally>,
    ) -> Result<Self> {
        let (connection, protocol) = match target {
            Target::Pulse {
                addr,
                token,
                wire,
                transport,
            } => {
                let protocol = match wire {
                    Wire::Json => Protocol::SignalR,
                    Wire::MessagePack => Protocol::SignalRMessagePack,
                };
                let connection = match transport {
                    Transport::WebSockets => {
                        Connection::websocket(signalr_connect(*addr, token, http, *wire).await?)
                    }
                    Transport::Http(transport) => Connection::Http(
                        HttpConnection::connect(*addr, token, http, *transport, *wire).await?,
                    ),
                };
                (connection, protocol)
            }
            Target::Peer { addr } => (
                Connection::websocket(socket_io_connect(*addr).await?),
                Protocol::SocketIo,
            ),
        };
        let (commands, receiver) = mpsc::channel(4);
        let task = tokio::spawn(run(connection, protocol, receiver, tally));
        Ok(Self { commands, task })
    }

    /// Joins `group` (a list id for Pulse, a room name for the peer) and
    /// waits for the server to confirm.
    pub async fn join(&self, group: &str) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Join {
            group: group.to_owned(),
            reply,
        })
        .await?;
        timeout(JOIN_TIMEOUT, answer)
            .await
            .map_err(|_| anyhow!("no join confirmation within {JOIN_TIMEOUT:?}"))?
            .map_err(|_| anyhow!("client ended while joining"))?
    }

    /// Sends a raw text frame (the peer's producer).
    pub async fn send(&self, text: String) -> Result<()> {
        self.command(Command::Send(text)).await
    }

    /// Everything stamped received since the last report.
    pub async fn report(&self) -> Result<Vec<Arrival>> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Report(reply)).await?;
        answer.await.map_err(|_| anyhow!("client ended"))
    }

    /// Closes the connection and waits until the client's task has ended, so a
    /// server stopped afterwards resets no connection that was still open.
    pub async fn close(self) {
        drop(self.commands);
        let _ = self.task.await;
    }

    async fn command(&self, command: Command) -> Result<()> {
        self.commands
            .send(command)
            .await
            .map_err(|_| anyhow!("client ended"))
    }
}

/// `step`, or an error naming it when it takes longer than `limit`.
pub async fn within<T>(
    what: &str,
    limit: Duration,
    step: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    timeout(limit, step)
        .await
        .map_err(|_| anyhow!("{what} took longer than {limit:?}"))?
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    SignalR,
    SignalRMessagePack,
    SocketIo,
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER)
}

async fn open(url: &str) -> Result<Socket> {
    let (socket, _) = timeout(
        STEP_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url, Some(config()), true),
    )
    .await
    .map_err(|_| anyhow!("websocket: no answer within {STEP_TIMEOUT:?}"))?
    .context("websocket")?;
    Ok(socket)
}

async fn next_text(socket: &mut Socket) -> Result<String> {
    loop {
        let message = timeout(STEP_TIMEOUT, socket.next())
            .await
            .map_err(|_| anyhow!("no message within {STEP_TIMEOUT:?}"))?
            .ok_or_else(|| anyhow!("socket ended"))?
            .context("socket")?;
        match message {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            // A binary protocol's handshake answer comes in a binary frame.
            Message::Binary(bytes) => return Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Message::Close(frame) => bail!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// `POST {hub}/negotiate`: the connection token every transport request names.
pub async fn negotiate(addr: SocketAddr, token: &str, http: &reqwest::Client) -> Result<String> {
    let negotiated: Value = http
        .post(format!("http://{addr}{HUB}/negotiate?negotiateVersion=1"))
        .bearer_auth(token)
        .timeout(STEP_TIMEOUT)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("negotiate")?
        .json()
        .await
        .context("negotiate")?;
    negotiated["connectionToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("negotiate: no connectionToken"))
}

/// Negotiate, WebSocket, handshake: what `@microsoft/signalr` does.
async fn signalr_connect(
    addr: SocketAddr,
    token: &str,
    http: &reqwest::Client,
    wire: Wire,
) -> Result<Socket> {
    let id = negotiate(addr, token, http).await?;
    let mut socket = open(&format!("ws://{addr}{HUB}?id={id}&access_token={token}")).await?;
    let handshake = match wire {
        Wire::Json => HANDSHAKE,
        Wire::MessagePack => msgpack::HANDSHAKE,
    };
    socket
        .send(Message::text(handshake))
        .await
        .context("handshake")?;
    let reply = next_text(&mut socket).await?;
    if !reply.starts_with("{}\u{1e}") {
        bail!("handshake refused: {reply}");
    }
    Ok(socket)
}

/// Engine.IO open packet, then the Socket.IO connect to the main namespace.
async fn socket_io_connect(addr: SocketAddr) -> Result<Socket> {
    let mut socket = open(&format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")).await?;
    let open_packet = next_text(&mut socket).await?;
    if !open_packet.starts_with('0') {
        bail!("expected the Engine.IO open packet, got {open_packet}");
    }
    socket.send(Message::text("40")).await.context("connect")?;
    loop {
        let reply = next_text(&mut socket).await?;
        if reply.starts_with("40") {
            return Ok(socket);
        }
        if reply == "2" {
            socket.send(Message::text("3")).await.context("pong")?;
            continue;
        }
        bail!("connect refused: {reply}");
    }
}

/// The join invocation: a hub method call, or an event with an acknowledgement.
fn join_frame(protocol: Protocol, group: &str) -> Message {
    match protocol {
        Protocol::SignalR => Message::text(format!(
            "{{\"type\":1,\"invocationId\":\"join\",\"target\":\"JoinList\",\"arguments\":[\"{group}\"]}}\u{1e}"
        )),
        Protocol::SignalRMessagePack => {
            Message::binary(msgpack::invocation("join", "JoinList", group))
        }
        Protocol::SocketIo => Message::text(format!("421[\"join\",\"{group}\"]")),
    }
}

/// The keep-alive SignalR clients send.
fn ping_frame(protocol: Protocol) -> Message {
    match protocol {
        Protocol::SignalRMessagePack => Message::binary(msgpack::ping()),
        Protocol::SignalR | Protocol::SocketIo => Message::text(PING),
    }
}

/// What a frame that is not a stamped message means for a pending join.
fn join_outcome(protocol: Protocol, text: &str) -> Option<Result<()>> {
    match protocol {
        Protocol::SignalR | Protocol::SignalRMessagePack => text
            .split('\u{1e}')
            .filter(|record| record.contains("\"type\":3"))
            .filter_map(|record| serde_json::from_str::<Value>(record).ok())
            .find(|message| message["invocationId"] == "join")
            .map(|message| match message.get("error") {
                Some(error) => Err(anyhow!("JoinList refused: {error}")),
                None => Ok(()),
            }),
        Protocol::SocketIo => text.starts_with("431").then_some(Ok(())),
    }
}

/// Why the server ended the session, if this frame says so.
fn closed_by_server(protocol: Protocol, text: &str) -> Option<String> {
    let closed = match protocol {
        Protocol::SignalR | Protocol::SignalRMessagePack => text.contains("\"type\":7"),
        Protocol::SocketIo => text.starts_with("41") || text.starts_with('1'),
    };
    closed.then(|| format!("closed by the server: {text}"))
}

struct State {
    protocol: Protocol,
    tally: Arc<Tally>,
    arrivals: Vec<Arrival>,
    pending_join: Option<oneshot::Sender<Result<()>>>,
}

impl State {
    /// Handles one text frame; the frame to answer with, if any.
    fn receive(&mut self, text: &str) -> Result<Option<&'static str>> {
        let arrived = marker::now_micros();
        let before = self.arrivals.len();
        self.arrivals
            .extend(marker::stamps(text).map(|stamp| Arrival {
                stamp,
                latency_micros: arrived.saturating_sub(stamp.sent),
            }));
        let found = self.arrivals.len() - before;
        if let Some(per_stamp) = text.len().checked_div(found) {
            self.tally.frame_bytes.store(per_stamp, Ordering::Relaxed);
            self.tally.stamped(found);
            return Ok(None);
        }
        if self.protocol == Protocol::SocketIo && text == "2" {
            return Ok(Some("3"));
        }
        if let Some(reason) = closed_by_server(self.protocol, text) {
            bail!(reason);
        }
        if self.pending_join.is_some() {
            if let Some(outcome) = join_outcome(self.protocol, text) {
                if let Some(reply) = self.pending_join.take() {
                    let _ = reply.send(outcome);
                }
            }
        }
        Ok(None)
    }

    /// Handles one binary frame (SignalR MessagePack).
    fn receive_binary(&mut self, frame: &[u8]) -> Result<()> {
        let arrived = marker::now_micros();
        for message in msgpack::messages(frame)? {
            let stamps = msgpack::stamps(message);
            if !stamps.is_empty() {
                self.tally
                    .frame_bytes
                    .store(message.len() / stamps.len(), Ordering::Relaxed);
                self.tally.stamped(stamps.len());
                self.arrivals
                    .extend(stamps.into_iter().map(|stamp| Arrival {
                        stamp,
                        latency_micros: arrived.saturating_sub(stamp.sent),
                    }));
                continue;
            }
            match msgpack::kind(message)? {
                msgpack::Kind::Close => bail!("closed by the server"),
                msgpack::Kind::Completion {
                    invocation_id,
                    error,
                } if invocation_id == "join" => {
                    if let Some(reply) = self.pending_join.take() {
                        let outcome = if error {
                            Err(anyhow!("JoinList refused"))
                        } else {
                            Ok(())
                        };
                        let _ = reply.send(outcome);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A client's open connection: a WebSocket, or SignalR's HTTP transports.
enum Connection {
    /// Boxed: a socket is several times the size of an HTTP connection.
    WebSocket(Box<Socket>),
    Http(HttpConnection),
}

impl Connection {
    fn websocket(socket: Socket) -> Self {
        Self::WebSocket(Box::new(socket))
    }

    /// The next message from the server; an error once the connection ended.
    async fn next(&mut self) -> Result<Message> {
        match self {
            Self::WebSocket(socket) => socket
                .next()
                .await
                .ok_or_else(|| anyhow!("socket ended"))?
                .context("socket"),
            Self::Http(connection) => connection.next().await.map(Message::text),
        }
    }

    async fn send(&mut self, message: Message) -> Result<()> {
        match self {
            Self::WebSocket(socket) => socket.send(message).await.map_err(Into::into),
            Self::Http(connection) => connection.send(message.into_data()).await,
        }
    }

    /// Whether the client must send Pings: long polling is its own keep-alive.
    fn pings(&self) -> bool {
        match self {
            Self::WebSocket(_) => true,
            Self::Http(connection) => connection.pings(),
        }
    }

    async fn close(self) {
        match self {
            Self::WebSocket(mut socket) => {
                let _ = (*socket).close(None).await;
            }
            Self::Http(connection) => connection.close().await,
        }
    }
}

async fn run(
    mut connection: Connection,
    protocol: Protocol,
    mut commands: mpsc::Receiver<Command>,
    tally: Arc<Tally>,
) {
    let mut state = State {
        protocol,
        tally: tally.clone(),
        arrivals: Vec::new(),
        pending_join: None,
    };
    let pings = protocol != Protocol::SocketIo && connection.pings();
    let mut keep_alive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    let outcome: Result<()> = async {
        loop {
            tokio::select! {
                message = connection.next() => match message? {
                    Message::Text(text) => {
                        if let Some(answer) = state.receive(text.as_str())? {
                            connection.send(Message::text(answer)).await.context("answer")?;
                        }
                    }
                    Message::Binary(frame) => state.receive_binary(&frame)?,
                    Message::Close(frame) => bail!("closed: {frame:?}"),
                    _ => {}
                },
                command = commands.recv() => match command {
                    None => return Ok(()),
                    Some(Command::Join { group, reply }) => {
                        connection.send(join_frame(protocol, &group)).await.context("join")?;
                        state.pending_join = Some(reply);
                    }
                    Some(Command::Send(text)) => connection.send(Message::text(text)).await.context("send")?,
                    Some(Command::Report(reply)) => {
                        let _ = reply.send(std::mem::take(&mut state.arrivals));
                    }
                },
                _ = keep_alive.tick(), if pings => {
                    connection.send(ping_frame(protocol)).await.context("ping")?;
                }
            }
        }
    }
    .await;
    if let Err(error) = outcome {
        if tally.failed.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!("pulse-bench: first client failure: {error:#}");
        }
        if let Some(reply) = state.pending_join.take() {
            let _ = reply.send(Err(error));
        }
        // Keep answering reports (empty now) until the handle is dropped.
        while let Some(command) = commands.recv().await {
            if let Command::Report(reply) = command {
                let _ = reply.send(std::mem::take(&mut state.arrivals));
            }
        }
    } else {
        connection.close().await;
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use super::Tally;

    #[tokio::test]
    async fn a_wait_for_stamps_ends_when_they_are_counted_or_at_its_limit() {
        let tally = Arc::new(Tally::default());
        let counting = tokio::spawn({
            let tally = tally.clone();
            async move {
                for _ in 0..3 {
                    tally.stamped(1);
                    tokio::task::yield_now().await;
                }
            }
        });
        assert!(tally.reached(3, Duration::from_secs(10)).await);
        counting.await.expect("counting");
        assert!(!tally.reached(4, Duration::from_millis(20)).await);
    }
}
