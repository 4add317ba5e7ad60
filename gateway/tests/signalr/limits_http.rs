//! Input over the size limits gets an answer that says why instead of a dropped connection:
//! a WebSocket message over the limit ends with a SignalR Close naming the maximum message
//! size, and a POST body over it gets 413 naming the limit (read to its end first, so the
//! answer is not lost to a reset).

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    helpers::{TestSuite, User, HUB},
    raw::HttpConnection,
};

/// What the suite's gateway takes per WebSocket message or POST body: four times the larger of
/// the message size limit (1 KiB in tests) and 64 KiB.
const TRANSPORT_LIMIT: usize = 4 * 64 * 1024;
const ONE_MB: usize = 1024 * 1024;

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
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
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
