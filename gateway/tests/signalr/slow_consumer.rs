//! A client that stops reading while its user's events pile up gets, once it reads again, a
//! gap-free prefix of the events followed by the "did not keep up" Close — on every transport —
//! and the gateway counts one slow-consumer close. Events are ~2 KB chat messages published on
//! the bus as the coaching service's relay does; the chat hub follows its user's group from the
//! handshake on.

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use pulse_proto::coaching::CHAT;
use pulse_proto::{
    coaching::v1::{event::Kind, ChatMessage},
    events::v1::{Event, EventEnvelope},
};
use pulse_testkit::{quiet_for, wait_until};
use serde_json::Value;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{SuiteOptions, TestSuite, User};

const HUB: &str = "/hubs/chat";
const RETENTION: Duration = Duration::from_secs(3600);
/// Bytes of text per event.
const EVENT_BYTES: usize = 2048;
/// More than the outgoing budget (1 MiB), the socket buffers and the HTTP server's buffers
/// can hold.
const EVENTS: u64 = 3000;
/// How long a single WebSocket write may block (`--write-stall-timeout`, 10 s by default): short
/// here, so the fault below is short too.
const STALL: &str = "5s";
/// The WebSocket fault itself, not a wait for something to happen: how long the client reads
/// nothing once the gateway gave up on it — longer than a single write may block ([`STALL`]),
/// shorter than that plus the time a closing connection gets to flush its Close ([`STALL`]
/// again). The gateway's giving up on the blocked write shows nowhere a test can look (the
/// connection ended already, with the overflow), so the window is timed.
const PAUSE: Duration = Duration::from_secs(6);
/// Generous bound for anything the gateway does on its own (a stall is noticed after [`STALL`]).
const WAIT: Duration = Duration::from_secs(30);
const SLOW_CONSUMERS: &str = "pulse_gateway_slow_consumer_closes_total";

async fn publish(bus: pulse_bus::Bus, user: uuid::Uuid) {
    let topic = CHAT.topic(user);
    let text = "x".repeat(EVENT_BYTES);
    for sequence in 1..=EVENTS {
        let message = ChatMessage {
            id: uuid::Uuid::new_v4().to_string(),
            sender_id: uuid::Uuid::new_v4().to_string(),
            recipient_id: user.to_string(),
            message: text.clone(),
            sent_at: "2026-11-23T10:00:00.000Z".into(),
            read_at: None,
        };
        let envelope = EventEnvelope {
            group: topic.group(),
            sequence,
            occurred_at: message.sent_at.clone(),
            except_user_id: None,
            event: Some(Event::from(Kind::ReceiveMessage(message))),
        };
        bus.publish(
            &topic,
            &format!("{}:{sequence}", topic.group()),
            Bytes::from(envelope.encode_to_vec()),
        )
        .await
        .expect("publish");
    }
}

async fn prepare(suite: &TestSuite) {
    suite
        .bus()
        .ensure_stream(CHAT.kind(), RETENTION)
        .await
        .expect("chat stream");
}

const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
/// An invocation sent right after the handshake: its completion means the connection is set
/// up (its user's group followed), because invocations are served only after that.
const PROBE: &str =
    "{\"type\":1,\"invocationId\":\"probe\",\"target\":\"Probe\",\"arguments\":[]}\u{1e}";

/// Whether the probe's completion is among the bytes received.
fn completed(received: &[u8]) -> bool {
    records(received)
        .iter()
        .any(|record| record["type"] == 3 && record["invocationId"] == "probe")
}

async fn slow_consumer_closes(suite: &TestSuite) -> u64 {
    let text = reqwest::get(suite.http("/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("scrape body");
    text.lines()
        .find_map(|line| line.strip_prefix(SLOW_CONSUMERS)?.strip_prefix(' '))
        .expect("the slow-consumer counter")
        .parse()
        .expect("an integer")
}

/// Waits until the gateway counted the slow consumer.
async fn counted(suite: &TestSuite) {
    wait_until("a slow consumer counted", WAIT, async || {
        slow_consumer_closes(suite).await > 0
    })
    .await;
}

/// Waits until the gateway gave up on the slow consumer: its connection ended (its Close queued
/// last) and left the registry, while the client still reads nothing.
async fn given_up(suite: &TestSuite) {
    wait_until("the slow consumer's connection ended", WAIT, async || {
        suite.open_connections() == 0
    })
    .await;
}

/// JSON records of a stream of bytes.
fn records(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|&byte| byte == 0x1e)
        .filter(|record| !record.is_empty())
        .map(|record| serde_json::from_slice(record).expect("a JSON record"))
        .collect()
}

/// The events form 1..=k with nothing missing, then comes the slow-consumer Close and nothing
/// after it; returns k.
fn assert_prefix_then_close(records: &[Value]) -> u64 {
    let mut received = 0;
    let mut close = None;
    for record in records {
        match record["type"].as_u64() {
            Some(1) => {
                assert!(close.is_none(), "nothing after the Close: {record}");
                assert_eq!(record["target"], "ReceiveMessage");
                let sequence = record["arguments"][0]["sequence"].as_u64();
                assert_eq!(sequence, Some(received + 1), "no gap after {received}");
                received += 1;
            }
            // Pings, and the probe's completion.
            Some(3 | 6) => {}
            Some(7) => {
                assert!(close.is_none(), "one Close");
                close = Some(record);
            }
            _ => panic!("unexpected record {record}"),
        }
    }
    let close = close.unwrap_or_else(|| panic!("a Close after {received} events"));
    let error = close["error"].as_str().expect("the Close says why");
    assert!(error.contains("did not keep up"), "{error}");
    assert_eq!(close["allowReconnect"], true);
    assert!(received < EVENTS, "the client fell behind");
    received
}

#[tokio::test]
async fn a_websocket_that_stops_reading_gets_a_gap_free_prefix_then_the_close() {
    let suite = TestSuite::start_with_options(SuiteOptions {
        gateway_args: vec!["--write-stall-timeout".to_owned(), STALL.to_owned()],
        ..SuiteOptions::default()
    })
    .await;
    prepare(&suite).await;
    let user = User::new("Ann");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let stream = socket.connect(suite.gateway).await.expect("connect");
    let url = format!(
        "ws://{}{HUB}?access_token={}",
        suite.gateway,
        suite.token(&user)
    );
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("upgrade");
    ws.send(Message::text(format!("{HANDSHAKE}{PROBE}")))
        .await
        .expect("handshake");
    let mut received = Vec::new();
    while !completed(&received) {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("ok");
        received.extend_from_slice(&message.into_data());
    }

    publish(suite.bus().clone(), user.id).await;
    counted(&suite).await;
    given_up(&suite).await;
    quiet_for("the client reads nothing past a stalled write", PAUSE).await;

    let read_all = async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
                received.extend_from_slice(text.as_bytes());
            }
        }
    };
    tokio::time::timeout(WAIT, read_all)
        .await
        .expect("the socket ends");
    let records = records(&received);
    assert_eq!(records.first(), Some(&serde_json::json!({})), "handshake");
    assert_prefix_then_close(&records[1..]);
    assert_eq!(slow_consumer_closes(&suite).await, 1);
    suite.stop().await;
}

/// `POST {HUB}/negotiate`; the connection token.
async fn negotiate(suite: &TestSuite, token: &str) -> String {
    let negotiated: Value = reqwest::Client::new()
        .post(suite.http(&format!("{HUB}/negotiate?negotiateVersion=1")))
        .bearer_auth(token)
        .send()
        .await
        .expect("negotiate")
        .json()
        .await
        .expect("negotiate json");
    negotiated["connectionToken"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// An HTTP/1.1 response read from a raw socket, its chunked body decoded.
fn dechunk(response: &[u8]) -> Vec<u8> {
    let Some(head) = response.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Vec::new();
    };
    let head_end = head + 4;
    let mut rest = &response[head_end..];
    let mut body = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|window| window == b"\r\n") {
        let size = std::str::from_utf8(&rest[..line_end]).expect("chunk size");
        let size = usize::from_str_radix(size, 16).expect("hex chunk size");
        let data = line_end + 2;
        if size == 0 || rest.len() < data + size {
            break;
        }
        body.extend_from_slice(&rest[data..data + size]);
        rest = &rest[(data + size + 2).min(rest.len())..];
    }
    body
}

/// The records an event stream's `data:` lines carry.
fn event_records(body: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(body);
    let payload: String = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .collect();
    records(payload.as_bytes())
}

/// Posts `body` to the connection; 200 expected.
async fn post(url: &str, token: &str, body: &str) {
    let posted = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .body(body.to_owned())
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status(), 200);
}

#[tokio::test]
async fn an_event_stream_that_stops_reading_gets_a_gap_free_prefix_then_the_close() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let suite = TestSuite::start().await;
    prepare(&suite).await;
    let user = User::new("Ann");
    let token = suite.token(&user);
    let id = negotiate(&suite, &token).await;
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let mut stream = socket.connect(suite.gateway).await.expect("connect");
    let request = format!(
        "GET {HUB}?id={id}&access_token={token} HTTP/1.1\r\nhost: pulse\r\naccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let url = suite.http(&format!("{HUB}?id={id}"));
    post(&url, &token, &format!("{HANDSHAKE}{PROBE}")).await;
    let mut received = Vec::new();
    let mut buffer = vec![0; 64 * 1024];
    while !completed_events(&received) {
        let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
            .await
            .expect("in time")
            .expect("read");
        assert!(read > 0, "stream open");
        received.extend_from_slice(&buffer[..read]);
    }

    publish(suite.bus().clone(), user.id).await;
    counted(&suite).await;
    given_up(&suite).await;

    let read_all = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
            if received.ends_with(b"\r\n0\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(WAIT, read_all)
        .await
        .expect("the stream ends");
    let records = event_records(&dechunk(&received));
    assert_eq!(records.first(), Some(&serde_json::json!({})), "handshake");
    assert_prefix_then_close(&records[1..]);
    assert_eq!(slow_consumer_closes(&suite).await, 1);
    suite.stop().await;
}

/// Whether the probe's completion is in an event stream received so far.
fn completed_events(received: &[u8]) -> bool {
    let records = event_records(&dechunk(received));
    records
        .iter()
        .any(|record| record["type"] == 3 && record["invocationId"] == "probe")
}

#[tokio::test]
async fn a_long_polling_client_that_falls_behind_gets_a_gap_free_prefix_then_the_close() {
    let suite = TestSuite::start().await;
    prepare(&suite).await;
    let user = User::new("Ann");
    let token = suite.token(&user);
    let id = negotiate(&suite, &token).await;
    let url = suite.http(&format!("{HUB}?id={id}"));
    let http = reqwest::Client::new();
    let poll = || async {
        let response = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("poll");
        let status = response.status();
        (status, response.bytes().await.expect("poll body"))
    };
    assert_eq!(poll().await.0, 200, "the first poll opens the connection");
    post(&url, &token, &format!("{HANDSHAKE}{PROBE}")).await;
    let mut received = Vec::new();
    while !completed(&received) {
        let (status, body) = poll().await;
        assert_eq!(status, 200);
        received.extend_from_slice(&body);
    }

    // The client stops polling while events pile up, and polls again once the gateway gave up
    // on it (before the disconnect timeout would end a client that stopped for good).
    let publishing = tokio::spawn(publish(suite.bus().clone(), user.id));
    counted(&suite).await;
    loop {
        let (status, body) = poll().await;
        if status == 204 {
            break;
        }
        assert_eq!(status, 200);
        received.extend_from_slice(&body);
    }
    publishing.await.expect("published");
    let records = records(&received);
    assert_eq!(records.first(), Some(&serde_json::json!({})), "handshake");
    assert_prefix_then_close(&records[1..]);
    assert_eq!(slow_consumer_closes(&suite).await, 1);
    suite.stop().await;
}
