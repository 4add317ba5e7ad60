//! The WebSocket protocol itself (RFC 6455), which the gateway speaks without a library: what
//! browsers rarely do but other clients may — pings, fragmented messages, the close handshake.

use std::time::Duration;

use pulse_testkit::wait_until;
use serde_json::json;
use tokio_tungstenite::tungstenite::{
    protocol::{
        frame::{
            coding::{CloseCode, Data, OpCode},
            Frame,
        },
        CloseFrame,
    },
    Message,
};

use crate::helpers::{TestSuite, User};

#[tokio::test]
async fn pings_are_answered_with_their_payload_and_the_connection_goes_on() {
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    for payload in [&b"first"[..], b"", b"second"] {
        ann.send_ws(Message::Ping(payload.to_vec().into())).await;
        assert_eq!(
            ann.next_control().await,
            Message::Pong(payload.to_vec().into())
        );
    }
    let list = ann.call("CreateList", json!([{"name": "Groceries"}])).await;
    assert_eq!(list["name"], "Groceries", "hub calls still answered");
    suite.stop().await;
}

#[tokio::test]
async fn a_message_in_fragments_is_taken_whole() {
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let invocation = json!({
        "type": 1, "invocationId": "frag", "target": "CreateList",
        "arguments": [{"name": "In pieces"}]
    })
    .to_string()
        + "\u{1e}";
    let (head, tail) = invocation.split_at(20);
    let first = Frame::message(head.as_bytes().to_vec(), OpCode::Data(Data::Text), false);
    let last = Frame::message(tail.as_bytes().to_vec(), OpCode::Data(Data::Continue), true);
    ann.send_ws(Message::Frame(first)).await;
    // A ping between fragments is answered at once (control frames may interleave).
    ann.send_ws(Message::Ping(b"between".to_vec().into())).await;
    assert_eq!(
        ann.next_control().await,
        Message::Pong(b"between".to_vec().into())
    );
    ann.send_ws(Message::Frame(last)).await;
    let completion = loop {
        let message = ann.next_message().await;
        if message["type"] == 3 {
            break message;
        }
    };
    assert_eq!(completion["invocationId"], "frag");
    assert_eq!(completion["result"]["name"], "In pieces");
    suite.stop().await;
}

#[tokio::test]
async fn a_client_close_is_answered_with_its_status_and_ends_the_connection() {
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    assert_eq!(suite.open_connections(), 1);
    ann.send_ws(Message::Close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "tab closed".into(),
    })))
    .await;
    let Message::Close(Some(reply)) = ann.next_control().await else {
        panic!("a Close with a status")
    };
    assert_eq!(reply.code, CloseCode::Away, "the client's status echoed");
    wait_until(
        "the connection ended",
        Duration::from_secs(10),
        async || suite.open_connections() == 0,
    )
    .await;
    suite.stop().await;
}
