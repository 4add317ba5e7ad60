//! Input over the size limits gets an answer that says why instead of a dropped connection:
//! a WebSocket message over the limit ends with a SignalR Close naming the maximum message
//! size, and a POST body over it gets 413 naming the limit (read to its end first, so the
//! answer is not lost to a reset). A client that trickles its headers (slowloris) is cut off
//! after the header timeout, and connections without a complete request are capped.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    helpers::{GatewayArgs, TestSuite, User, HUB},
    raw::HttpConnection,
};

/// What the suite's gateway takes per WebSocket message or POST body: four times the larger of
/// the message size limit (1 KiB in tests) and 64 KiB.
const TRANSPORT_LIMIT: usize = 4 * 64 * 1024;
const ONE_MB: usize = 1024 * 1024;
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_websocket_message_over_the_limit_ends_with_a_close_that_says_why() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let url = format!("ws://{}{HUB}?access_token={token}", suite.gateway);
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    let (mut sink, mut stream) = ws.split();
    sink.send(Message::text("{\"protocol\":\"json\",\"version\":1}\u{1e}"))
        .await
        .expect("handshake");
    // Sent while the answer is read: the gateway answers without taking the whole message.
    let sending = tokio::spawn(async move {
        let _ = sink.send(Message::text("x".repeat(ONE_MB))).await;
        sink
    });
    let mut records = Vec::new();
    let read = async {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Text(text) = message {
                records.extend(
                    text.split('\u{1e}')
                        .filter(|record| !record.is_empty())
                        .map(|record| serde_json::from_str::<Value>(record).expect("json")),
                );
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("the socket ends");
    let _ = sending.await;
    assert_eq!(records.first(), Some(&serde_json::json!({})), "handshake");
    let close = records.last().expect("a Close");
    assert_eq!(close["type"], 7, "{records:?}");
    assert_eq!(
        close["error"],
        format!(
            "Connection closed with an error. The maximum message size of {TRANSPORT_LIMIT}B was exceeded."
        )
    );
    assert_eq!(close["allowReconnect"], true);
    suite.stop().await;
}

#[tokio::test]
async fn a_post_over_the_limit_gets_413_that_says_the_limit_and_changes_nothing() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let connection = HttpConnection::negotiate(&suite, &token).await;
    assert_eq!(connection.poll().await.status(), 200, "opening poll");

    let refused = reqwest::Client::new()
        .post(connection.url())
        .bearer_auth(&token)
        .body(vec![b'x'; 4 * ONE_MB])
        .send()
        .await
        .expect("an answer, not a reset");
    assert_eq!(refused.status(), 413);
    let text = refused.text().await.expect("body");
    assert_eq!(
        text,
        format!("The body is larger than the limit of {TRANSPORT_LIMIT} bytes.")
    );

    // The connection took nothing from it: the handshake still works.
    let handshake = connection
        .post("{\"protocol\":\"json\",\"version\":1}\u{1e}")
        .await;
    assert_eq!(handshake, 200);
    let answer = connection.poll().await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.expect("body"), "{}\u{1e}");
    suite.stop().await;
}

/// A gateway of its own with small connection limits (no domain service is needed for them).
struct LimitedGateway {
    addr: std::net::SocketAddr,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// Time a client has to send its headers, in these tests.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const PER_ADDRESS: usize = 3;

impl LimitedGateway {
    async fn start() -> Self {
        use clap::Parser;
        let config = GatewayArgs::parse_from([
            "gateway",
            "--gateway-addr",
            "127.0.0.1:0",
            "--gateway-grpc-addr",
            "127.0.0.1:0",
            "--header-read-timeout",
            "1s",
            "--max-handshaking-connections",
            "100",
            "--max-handshaking-connections-per-address",
            &PER_ADDRESS.to_string(),
        ])
        .config;
        let namespace =
            pulse_bus::Namespace::new(&pulse_testkit::unique_namespace()).expect("namespace");
        let bus = pulse_bus::Bus::connect(&pulse_testkit::shared_nats_url(), namespace)
            .await
            .expect("bus");
        let validator = pulse_auth::JwtValidator::new(&pulse_auth::JwtKeys::Hs256(
            "limits-test-secret".to_owned().into(),
        ))
        .expect("validator");
        let gateway = pulse_gateway::GatewayApp::build(&config, bus, validator)
            .await
            .expect("gateway starts");
        let addr = gateway.local_addr();
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let _ = gateway.run_until_stopped(stop).await;
            }
        });
        Self { addr, stop, task }
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// A socket to the gateway from the loopback address `from` (127.0.0.x).
async fn socket_from(from: [u8; 4], to: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from((from, 0)))
        .expect("bind");
    socket.connect(to).await.expect("connect")
}

/// Waits until the server closes the socket (end of stream or reset); false if it is still
/// open after `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0; 1024];
    let closing = async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, closing).await.is_ok()
}

/// `GET /health` from `from`, answered in full.
async fn health_from(from: [u8; 4], gateway: std::net::SocketAddr) -> String {
    let mut socket = socket_from(from, gateway).await;
    socket
        .write_all(b"GET /health HTTP/1.1\r\nhost: pulse\r\nconnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut response = String::new();
    tokio::time::timeout(WAIT, socket.read_to_string(&mut response))
        .await
        .expect("answered in time")
        .expect("read");
    response
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_connections_without_a_request_are_capped_per_address() {
    let gateway = LimitedGateway::start().await;
    let slow = [127, 0, 0, 1];
    let mut partial = Vec::new();
    // One sends nothing at all, the others part of a request.
    partial.push(socket_from(slow, gateway.addr).await);
    for _ in 1..PER_ADDRESS {
        let mut socket = socket_from(slow, gateway.addr).await;
        socket
            .write_all(b"GET /health HTTP/1.1\r\nhost: pulse\r\nx-slow: ")
            .await
            .expect("partial request");
        partial.push(socket);
    }
    // Over the cap for this address: closed at once, before any timeout.
    let mut refused = socket_from(slow, gateway.addr).await;
    assert!(
        closed_within(&mut refused, HEADER_TIMEOUT / 2).await,
        "a connection over the per-address cap is closed at once"
    );
    // Another address is not affected.
    let answer = health_from([127, 0, 0, 2], gateway.addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");

    // The slow ones are cut off once the header timeout passed, which frees their places.
    for socket in &mut partial {
        assert!(
            closed_within(socket, HEADER_TIMEOUT * 5).await,
            "a request whose headers never end is closed"
        );
    }
    let answer = health_from(slow, gateway.addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    gateway.stop().await;
}
