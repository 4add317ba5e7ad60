//! SignalR over HTTP, as `@microsoft/signalr` speaks it when WebSockets are
//! not available: the server's messages come over one long response (an
//! event stream, see [`crate::sse`]) or a loop of polls (see
//! [`crate::long_polling`]) read by a task of their own, and the client's
//! messages go as `POST {hub}?id=` bodies. The reader runs in its own task
//! so that a client busy sending never aborts a poll the server has already
//! filled (those messages would be lost, and counted so).

use std::{fmt, future::Future, net::SocketAddr, time::Duration};

use anyhow::{anyhow, bail, Context, Result};
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_tungstenite::tungstenite::Bytes;

use crate::{
    client::{negotiate, within, Wire, HANDSHAKE, HUB, STEP_TIMEOUT},
    long_polling, sse,
};

/// Texts the reader may get ahead of the client (each is one event or one
/// poll's body): enough to keep reading while the client posts.
const READ_AHEAD: usize = 64;
/// Longest a best-effort `DELETE` may take when a long-polling client closes.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// SignalR's two HTTP transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpTransport {
    ServerSentEvents,
    LongPolling,
}

impl fmt::Display for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ServerSentEvents => "Server-Sent Events",
            Self::LongPolling => "long polling",
        })
    }
}

/// What a reader task hands the client: the text of one event or poll (one
/// or more records), or why the connection ended.
pub type Incoming = mpsc::Sender<Result<String>>;

/// A negotiated, handshaken connection over one of the HTTP transports.
pub struct HttpConnection {
    http: reqwest::Client,
    transport: HttpTransport,
    /// `http://…/hubs/shopping-list?id=<connectionToken>`: every request's URL.
    url: String,
    /// Sent as a bearer header on every request (the gateway also takes it
    /// from the query; the header keeps it out of URLs).
    token: String,
    incoming: mpsc::Receiver<Result<String>>,
    reader: JoinHandle<()>,
}

impl HttpConnection {
    /// Negotiate, open the receiving side, post the handshake and wait for
    /// its answer (JSON only: SSE carries text, and the bench's long-polling
    /// row is JSON too).
    pub async fn connect(
        addr: SocketAddr,
        token: &str,
        http: &reqwest::Client,
        transport: HttpTransport,
        wire: Wire,
    ) -> Result<Self> {
        if wire != Wire::Json {
            bail!("{transport}: only SignalR JSON is spoken here");
        }
        let id = negotiate(addr, token, http).await?;
        let url = format!("http://{addr}{HUB}?id={id}");
        let (sender, incoming) = mpsc::channel(READ_AHEAD);
        let reader = match transport {
            HttpTransport::ServerSentEvents => {
                let stream = sse::open(http, &url, token).await?;
                let reading = sse::read(stream, sender.clone());
                spawn_reader(sender, reading)
            }
            HttpTransport::LongPolling => {
                long_polling::start(http, &url, token).await?;
                let reading = long_polling::keep_polling(
                    http.clone(),
                    url.clone(),
                    token.to_owned(),
                    sender.clone(),
                );
                spawn_reader(sender, reading)
            }
        };
        let mut connection = Self {
            http: http.clone(),
            transport,
            url,
            token: token.to_owned(),
            incoming,
            reader,
        };
        connection
            .send(Bytes::from_static(HANDSHAKE.as_bytes()))
            .await
            .context("handshake")?;
        let reply = within("the handshake answer", STEP_TIMEOUT, connection.next()).await?;
        if !reply.starts_with("{}\u{1e}") {
            bail!("handshake refused: {reply}");
        }
        Ok(connection)
    }

    /// The next event's or poll's text; an error once the connection ended.
    pub async fn next(&mut self) -> Result<String> {
        self.incoming
            .recv()
            .await
            .ok_or_else(|| anyhow!("{}: reader ended", self.transport))?
    }

    /// Posts one or more records, as the JS client's sends do.
    pub async fn send(&mut self, body: Bytes) -> Result<()> {
        self.http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "text/plain;charset=UTF-8")
            .timeout(STEP_TIMEOUT)
            .body(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("{}: POST", self.transport))?;
        Ok(())
    }

    /// Long polling needs no Pings (the polls keep it alive); SSE does.
    pub fn pings(&self) -> bool {
        self.transport == HttpTransport::ServerSentEvents
    }

    /// Ends the connection as the JS client does: drops the event stream
    /// (SSE has no other way), or stops polling and sends `DELETE`.
    pub async fn close(self) {
        self.reader.abort();
        if self.transport == HttpTransport::LongPolling {
            let _ = self
                .http
                .delete(&self.url)
                .bearer_auth(&self.token)
                .timeout(CLOSE_LIMIT)
                .send()
                .await;
        }
    }
}

/// Runs a transport's `reading` in a task of its own; whatever error ends it
/// reaches the client as its last message.
fn spawn_reader(
    incoming: Incoming,
    reading: impl Future<Output = Result<()>> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(error) = reading.await {
            let _ = incoming.send(Err(error)).await;
        }
    })
}

impl Drop for HttpConnection {
    /// A client that failed drops its connection without closing it; the
    /// reader must not outlive it.
    fn drop(&mut self) {
        self.reader.abort();
    }
}
