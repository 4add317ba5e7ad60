//! Server-Sent Events, long polling and MessagePack on the wire: the answers the official client
//! acts on, the status codes ASP.NET Core uses, and isolation of bad input per connection.

use std::time::Duration;

use pulse_gateway::protocol::{HubMessage, Protocol};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{eventually, reaped_soon, TestSuite, User, HUB};
use crate::raw::{connection_token, invocation, next_chunk, read_until, HttpConnection, WsClient};

const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
const CREATE_LIST: &str =
    "{\"type\":1,\"invocationId\":\"0\",\"target\":\"createlist\",\"arguments\":[{\"name\":\"L\"}]}\u{1e}";

fn closes_with_reconnect_allowed(message: &HubMessage) -> bool {
    matches!(message, HubMessage::Close { error: Some(error), allow_reconnect: true }
        if error.starts_with("Connection closed with an error."))
}

/// A long-polling connection past its first poll and handshake.
pub(crate) async fn long_polling(suite: &TestSuite, token: &str) -> HttpConnection {
    let lp = HttpConnection::negotiate(suite, token).await;
    assert_eq!(lp.poll().await.status(), StatusCode::OK);
    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::OK);
    assert_eq!(lp.poll().await.text().await.expect("body"), "{}\u{1e}");
    lp
}

#[tokio::test]
async fn long_polling_answers_the_first_poll_at_once_then_carries_replies_and_times_out_empty() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let lp = HttpConnection::negotiate(&suite, &token).await;

    let first = lp.poll().await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-type"], "application/octet-stream");
    assert_eq!(first.headers()["cache-control"], "no-cache, no-store");
    assert_eq!(
        first.bytes().await.expect("body").len(),
        0,
        "first poll empty"
    );

    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::OK);
    assert_eq!(lp.poll().await.text().await.expect("body"), "{}\u{1e}");
    assert_eq!(lp.post(CREATE_LIST).await, StatusCode::OK);
    let completion = lp.poll().await.text().await.expect("body");
    assert!(
        completion.starts_with("{\"type\":3,\"invocationId\":\"0\",\"result\":{"),
        "{completion}"
    );

    // Nothing to say: the poll timeout (2 s in tests) answers 200 empty; no Ping is sent.
    let started = tokio::time::Instant::now();
    let idle = lp.poll().await;
    assert_eq!(idle.status(), StatusCode::OK);
    assert_eq!(idle.bytes().await.expect("body").len(), 0);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    suite.stop().await;
}

#[tokio::test]
async fn a_handshake_posted_before_the_first_poll_is_held_for_the_connection() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let lp = HttpConnection::negotiate(&suite, &token).await;
    // signalrcore posts its handshake first; .NET holds it until the transport starts.
    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::OK);
    // At most one large frame is held (256 KiB in tests).
    assert_eq!(
        lp.post(vec![b' '; 256 * 1024 - 10]).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        lp.delete().await,
        StatusCode::BAD_REQUEST,
        "not long polling yet"
    );
    assert_eq!(lp.poll().await.status(), StatusCode::OK);
    assert_eq!(lp.poll().await.text().await.expect("body"), "{}\u{1e}");
    suite.stop().await;
}

#[tokio::test]
async fn delete_ends_a_long_polling_connection_and_its_pending_poll_gets_204() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let lp = long_polling(&suite, &token).await;
    let pending = tokio::spawn({
        let lp = lp.clone();
        async move { lp.poll().await.status() }
    });
    eventually("the poll is pending", || suite.waiting_polls() == 1).await;
    assert_eq!(lp.delete().await, StatusCode::ACCEPTED);
    assert_eq!(pending.await.expect("poll"), StatusCode::NO_CONTENT);
    assert_eq!(lp.poll().await.status(), StatusCode::NOT_FOUND);
    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::NOT_FOUND);
    suite.stop().await;
}

#[tokio::test]
async fn a_new_poll_supersedes_the_pending_one_which_gets_204() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let lp = long_polling(&suite, &token).await;
    let older = tokio::spawn({
        let lp = lp.clone();
        async move { lp.poll().await.status() }
    });
    eventually("the older poll is pending", || suite.waiting_polls() == 1).await;
    let newer = tokio::spawn({
        let lp = lp.clone();
        async move { lp.poll().await.text().await.expect("body") }
    });
    assert_eq!(older.await.expect("older poll"), StatusCode::NO_CONTENT);
    assert_eq!(lp.post(CREATE_LIST).await, StatusCode::OK);
    let reply = newer.await.expect("newer poll");
    assert!(reply.starts_with("{\"type\":3"), "{reply}");
    suite.stop().await;
}

#[tokio::test]
async fn a_long_polling_client_that_stops_polling_is_reaped_after_the_disconnect_timeout() {
    let suite = TestSuite::start_with_options(reaped_soon()).await;
    let token = suite.token(&User::new("Ann"));
    let lp = long_polling(&suite, &token).await;
    eventually("the idle connection reaped", || {
        suite.open_connections() == 0
    })
    .await;
    assert_eq!(lp.post(CREATE_LIST).await, StatusCode::NOT_FOUND);
    assert_eq!(lp.poll().await.status(), StatusCode::NOT_FOUND);
    suite.stop().await;
}

#[tokio::test]
async fn server_sent_events_open_with_a_comment_and_carry_records_as_data_events() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let sse = HttpConnection::negotiate(&suite, &token).await;
    let mut stream = sse.event_stream().await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert_eq!(stream.headers()["content-encoding"], "identity");
    assert_eq!(
        next_chunk(&mut stream).await,
        ":\r\n",
        "flushed before anything happens"
    );

    assert_eq!(sse.post(HANDSHAKE).await, StatusCode::OK);
    assert_eq!(next_chunk(&mut stream).await, "data: {}\u{1e}\r\n\r\n");
    assert_eq!(sse.post(CREATE_LIST).await, StatusCode::OK);
    let reply = read_until(&mut stream, "{\"type\":3,").await;
    assert!(
        reply.contains("data: {\"type\":3,\"invocationId\":\"0\""),
        "{reply}"
    );
    assert_eq!(
        sse.delete().await,
        StatusCode::BAD_REQUEST,
        "SSE ends by closing the stream"
    );

    // The client stops by dropping the stream: the connection ends with it.
    drop(stream);
    pulse_testkit::wait_until(
        "the connection ends with the aborted GET",
        Duration::from_secs(5),
        || async { sse.post("{\"type\":6}\u{1e}").await != StatusCode::OK },
    )
    .await;
    assert_eq!(sse.post("{\"type\":6}\u{1e}").await, StatusCode::NOT_FOUND);
    suite.stop().await;
}

#[tokio::test]
async fn messagepack_over_server_sent_events_is_refused_with_the_dotnet_text() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let sse = HttpConnection::negotiate(&suite, &token).await;
    let mut stream = sse.event_stream().await;
    next_chunk(&mut stream).await;
    sse.post("{\"protocol\":\"messagepack\",\"version\":1}\u{1e}")
        .await;
    let refusal = read_until(&mut stream, "\r\n\r\n").await;
    assert_eq!(
        refusal,
        "data: {\"error\":\"Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format.\"}\u{1e}\r\n\r\n"
    );
    suite.stop().await;
}

#[tokio::test]
async fn transport_requests_get_the_status_codes_aspnet_core_answers() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let http = reqwest::Client::new();
    let hub = suite.http(HUB);
    let status = |request: reqwest::RequestBuilder| status_of(request, &token);

    // Without an id only a WebSocket may connect.
    assert_eq!(status(http.get(&hub)).await, StatusCode::BAD_REQUEST);
    let sse_without_id = http.get(&hub).header("accept", "text/event-stream");
    assert_eq!(status(sse_without_id).await, StatusCode::BAD_REQUEST);
    assert_eq!(status(http.post(&hub)).await, StatusCode::BAD_REQUEST);
    assert_eq!(status(http.put(&hub)).await, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        status(http.get(format!("{hub}/negotiate"))).await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status(http.post(format!("{hub}?id=nope"))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(http.get(format!("{hub}?id=nope"))).await,
        StatusCode::NOT_FOUND
    );

    // A WebSocket connection takes no POST (405) and no DELETE (400), nor another transport.
    let user_token = suite.token(&User::new("Bob"));
    let id = connection_token(&suite, &user_token, "").await;
    let mut ws = WsClient::open(&suite, &user_token, &id, Protocol::Json)
        .await
        .expect("websocket");
    ws.handshake(1).await;
    let bob = |request: reqwest::RequestBuilder| status_of(request, &user_token);
    let on_ws = format!("{hub}?id={id}");
    assert_eq!(bob(http.post(&on_ws)).await, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(bob(http.delete(&on_ws)).await, StatusCode::BAD_REQUEST);
    assert_eq!(
        bob(http.get(&on_ws)).await,
        StatusCode::BAD_REQUEST,
        "other transport"
    );

    // An event stream is attached once (409); someone else's token finds nothing (404).
    let sse = HttpConnection::negotiate(&suite, &user_token).await;
    let _stream = sse.event_stream().await;
    assert_eq!(sse.event_stream().await.status(), StatusCode::CONFLICT);
    let stranger = suite.token(&User::new("Eve"));
    assert_eq!(
        status_of(http.post(sse.url()), &stranger).await,
        StatusCode::NOT_FOUND
    );
    ws.close().await;
    suite.stop().await;
}

async fn status_of(request: reqwest::RequestBuilder, token: &str) -> StatusCode {
    request
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn malformed_input_on_any_transport_closes_only_that_connection() {
    let suite = TestSuite::start().await;
    let ann_user = User::new("Ann");
    let token = suite.token(&ann_user);
    let mut ann = suite.connect(&ann_user).await;
    let list = ann.call("CreateList", json!([{"name": "Shared"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    ann.call("JoinList", json!([list_id])).await;

    // MessagePack over a WebSocket: a record whose length prefix runs past its data.
    let id = connection_token(&suite, &token, "").await;
    let mut packed = WsClient::open(&suite, &token, &id, Protocol::MessagePack)
        .await
        .expect("websocket");
    packed.handshake(1).await;
    packed
        .send(&[invocation("0", "JoinList", vec![json!(list_id)])])
        .await;
    while !matches!(packed.next_reply().await, HubMessage::Completion { .. }) {}
    packed
        .send_raw(vec![0x05, 0x95, 0x01, 0x80, 0xc0, 0xa4])
        .await;
    packed.send_raw(vec![0x02, 0xc1, 0xc1]).await;
    let close = packed.close_message().await;
    assert!(closes_with_reconnect_allowed(&close), "{close:?}");

    // Server-Sent Events: garbage in a POST.
    let sse = HttpConnection::negotiate(&suite, &token).await;
    let mut stream = sse.event_stream().await;
    sse.post(HANDSHAKE).await;
    read_until(&mut stream, "{}\u{1e}").await;
    sse.post("{\"type\":1,\"target\":\u{1e}").await;
    let closed = read_until(&mut stream, "\"type\":7").await;
    assert!(closed.contains("\"allowReconnect\":true"), "{closed}");

    // Long polling: an oversized POST (the limit is 1 KiB in tests).
    let lp = long_polling(&suite, &token).await;
    lp.post(vec![b'x'; 4096]).await;
    let closed = lp.poll().await.text().await.expect("body");
    assert!(
        closed.contains("The maximum message size of 1024B was exceeded."),
        "{closed}"
    );

    ann.call("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    assert_eq!(ann.event("ItemAdded").await["item"]["name"], "Milk");
    suite.stop().await;
}

#[tokio::test]
async fn a_messagepack_websocket_uses_binary_frames_and_gets_events_as_maps() {
    let suite = TestSuite::start().await;
    let ann_user = User::new("Ann");
    let token = suite.token(&ann_user);
    let id = connection_token(&suite, &token, "").await;
    let mut packed = WsClient::open(&suite, &token, &id, Protocol::MessagePack)
        .await
        .expect("websocket");
    packed.handshake(1).await;
    packed
        .send(&[invocation(
            "0",
            "CreateList",
            vec![json!({"name": "Packed"})],
        )])
        .await;
    let HubMessage::Completion { outcome, .. } = packed.next_reply().await else {
        panic!("a completion");
    };
    let pulse_gateway::protocol::CompletionOutcome::Result(list) = outcome else {
        panic!("a result: {outcome:?}");
    };
    let list_id = list["id"].as_str().expect("id").to_owned();
    packed
        .send(&[
            HubMessage::Ping,
            invocation("1", "joinlist", vec![json!(list_id)]),
            invocation(
                "2",
                "AddItem",
                vec![json!(list_id), json!({"name": "Milk", "quantity": 2})],
            ),
        ])
        .await;
    let mut added = None;
    while added.is_none() {
        if let HubMessage::Invocation {
            target,
            mut arguments,
            ..
        } = packed.next_reply().await
        {
            if target == "ItemAdded" {
                added = arguments.pop();
            }
        }
    }
    let added = added.expect("ItemAdded");
    assert_eq!(added["item"]["name"], "Milk");
    assert_eq!(added["item"]["quantity"], 2.0);
    assert_eq!(added["item"]["unit"], serde_json::Value::Null);
    assert_eq!(added["listId"], list_id);
    assert!(added["sequence"].as_u64().is_some());
    packed.close().await;
    suite.stop().await;
}
