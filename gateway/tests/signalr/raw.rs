//! Lower-level clients than `RawClient`, for what the official clients do not let a test do:
//! speak MessagePack or JSON over a WebSocket frame by frame (and drop the socket without a close
//! handshake), and drive Server-Sent Events and long polling request by request.

use std::net::SocketAddr;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use pulse_gateway::protocol::{HubMessage, MessageReader, Protocol};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{next_in_time, TestSocket, TestSuite, HUB, WAIT};

/// `POST {HUB}/negotiate` with an extra query (`&useStatefulReconnect=true`); the whole body.
pub async fn negotiate(suite: &TestSuite, token: &str, extra_query: &str) -> Value {
    negotiate_at(suite.gateway, token, extra_query).await
}

/// [`negotiate`] on the gateway at `gateway`.
pub async fn negotiate_at(gateway: SocketAddr, token: &str, extra_query: &str) -> Value {
    reqwest::Client::new()
        .post(format!(
            "http://{gateway}{HUB}/negotiate?negotiateVersion=1{extra_query}"
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("negotiate")
        .json()
        .await
        .expect("negotiate json")
}

/// The connection token of a fresh negotiation.
pub async fn connection_token(suite: &TestSuite, token: &str, extra_query: &str) -> String {
    negotiate(suite, token, extra_query).await["connectionToken"]
        .as_str()
        .expect("connectionToken")
        .to_owned()
}

/// A WebSocket speaking one hub protocol, message by message.
pub struct WsClient {
    ws: TestSocket,
    reader: MessageReader,
    pub protocol: Protocol,
}

impl WsClient {
    /// Opens `?id=<connection_token>`; the upgrade's failure (404, 409) is the error.
    pub async fn open(
        suite: &TestSuite,
        token: &str,
        connection_token: &str,
        protocol: Protocol,
    ) -> Result<Self, String> {
        Self::open_at(suite.gateway, token, connection_token, protocol).await
    }

    /// [`WsClient::open`] on the gateway at `gateway`.
    pub async fn open_at(
        gateway: SocketAddr,
        token: &str,
        connection_token: &str,
        protocol: Protocol,
    ) -> Result<Self, String> {
        let url = format!("ws://{gateway}{HUB}?id={connection_token}&access_token={token}");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|error| error.to_string())?;
        Ok(Self {
            ws,
            reader: MessageReader::new(protocol, usize::MAX),
            protocol,
        })
    }

    /// Sends the handshake (always a text frame) and checks the `{}` answer.
    pub async fn handshake(&mut self, version: u8) {
        let request = json!({"protocol": self.protocol.name(), "version": version});
        self.ws
            .send(Message::text(format!("{request}\u{1e}")))
            .await
            .expect("send handshake");
        let answer = match next_in_time(&mut self.ws).await {
            Message::Text(text) => Bytes::from(text),
            Message::Binary(bytes) => bytes,
            other => panic!("no handshake answer: {other:?}"),
        };
        assert_eq!(&answer[..], b"{}\x1e", "handshake answer");
    }

    /// Sends messages in one frame of the protocol's type.
    pub async fn send(&mut self, messages: &[HubMessage]) {
        let bytes: Vec<u8> = messages
            .iter()
            .flat_map(|message| self.protocol.encode(message))
            .collect();
        self.send_raw(bytes).await;
    }

    /// Sends bytes as one frame of the protocol's type, valid or not.
    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        let message = match self.protocol {
            Protocol::Json => Message::text(String::from_utf8(bytes).expect("json is text")),
            Protocol::MessagePack => Message::binary(bytes),
        };
        self.ws.send(message).await.expect("send");
    }

    /// The next hub message, Pings included; checks the frame type fits the protocol.
    pub async fn next_message(&mut self) -> HubMessage {
        loop {
            if let Some(message) = self.reader.next_message().expect("valid server output") {
                return message;
            }
            match (next_in_time(&mut self.ws).await, self.protocol) {
                (Message::Text(text), Protocol::Json) => self.reader.push(text.as_bytes()),
                (Message::Binary(bytes), Protocol::MessagePack) => self.reader.push(&bytes),
                (Message::Ping(_) | Message::Pong(_), _) => {}
                (other, protocol) => panic!("unexpected frame for {protocol:?}: {other:?}"),
            }
        }
    }

    /// The next message that is not a Ping or an Ack.
    pub async fn next_reply(&mut self) -> HubMessage {
        loop {
            match self.next_message().await {
                HubMessage::Ping | HubMessage::Ack { .. } => {}
                message => return message,
            }
        }
    }

    /// Reads until the server's Close message.
    pub async fn close_message(&mut self) -> HubMessage {
        loop {
            if let message @ HubMessage::Close { .. } = self.next_message().await {
                return message;
            }
        }
    }

    /// Closes properly (close handshake).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.ws.next()).await {}
    }

    /// Drops the TCP connection without a close handshake, as a network failure does.
    pub fn drop_abruptly(self) {
        drop(self.ws);
    }
}

/// An invocation expecting a reply.
pub fn invocation(id: &str, target: &str, arguments: Vec<Value>) -> HubMessage {
    HubMessage::Invocation {
        invocation_id: Some(id.to_owned()),
        target: target.to_owned(),
        arguments,
        stream_ids: vec![],
    }
}

/// Server-Sent Events or long polling, request by request (JSON unless the handshake says).
#[derive(Clone)]
pub struct HttpConnection {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl HttpConnection {
    pub async fn negotiate(suite: &TestSuite, token: &str) -> Self {
        let id = connection_token(suite, token, "").await;
        Self {
            http: reqwest::Client::new(),
            url: suite.http(&format!("{HUB}?id={id}")),
            token: token.to_owned(),
        }
    }

    /// `{HUB}?id=<connection token>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens the event stream (`Accept: text/event-stream`, token in the query as EventSource
    /// sends it).
    pub async fn event_stream(&self) -> Response {
        self.http
            .get(format!("{}&access_token={}", self.url, self.token))
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("event stream")
    }

    pub async fn poll(&self) -> Response {
        self.http
            .get(&self.url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("poll")
    }

    pub async fn post(&self, body: impl Into<reqwest::Body>) -> StatusCode {
        self.http
            .post(&self.url)
            .bearer_auth(&self.token)
            .body(body)
            .send()
            .await
            .expect("post")
            .status()
    }

    pub async fn delete(&self) -> StatusCode {
        self.http
            .delete(&self.url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("delete")
            .status()
    }
}

/// The next chunk of a streamed response, as text.
pub async fn next_chunk(response: &mut Response) -> String {
    let chunk = tokio::time::timeout(WAIT, response.chunk())
        .await
        .expect("a chunk in time")
        .expect("stream ok")
        .expect("stream open");
    String::from_utf8(chunk.to_vec()).expect("text")
}

/// Reads SSE chunks until `needle` appears; returns everything read.
pub async fn read_until(response: &mut Response, needle: &str) -> String {
    let mut text = String::new();
    while !text.contains(needle) {
        text.push_str(&next_chunk(response).await);
    }
    text
}
