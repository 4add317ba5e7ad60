//! Stateful reconnect on the wire (signalr-protocol.md §11): a dropped WebSocket replaced on the
//! same connection token, `Sequence` first, unacknowledged messages replayed, the client's resent
//! messages handled once, and no reattach to a connection that is over.

use std::time::Duration;

use pulse_gateway::protocol::{CompletionOutcome, HubMessage, Protocol};
use pulse_testkit::wait_until;
use serde_json::{json, Value};

use crate::helpers::{eventually, reaped_soon, TestSuite, User};
use crate::raw::{connection_token, invocation, negotiate, WsClient};

/// Opens a negotiated stateful connection and completes a version-2 handshake.
async fn stateful(suite: &TestSuite, token: &str) -> (String, WsClient) {
    let negotiated = negotiate(suite, token, "&useStatefulReconnect=true").await;
    assert_eq!(
        negotiated["useStatefulReconnect"], true,
        "echoed when asked"
    );
    let id = negotiated["connectionToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut ws = WsClient::open(suite, token, &id, Protocol::Json)
        .await
        .expect("websocket");
    ws.handshake(2).await;
    (id, ws)
}

fn completion_of(message: &HubMessage) -> Option<(&str, &CompletionOutcome)> {
    match message {
        HubMessage::Completion {
            invocation_id,
            outcome,
        } => Some((invocation_id, outcome)),
        _ => None,
    }
}

/// Reads until the Completion of `id`, returning it and everything read before it.
async fn until_completion(ws: &mut WsClient, id: &str) -> (Value, Vec<HubMessage>) {
    let mut before = Vec::new();
    loop {
        let message = ws.next_reply().await;
        if let Some((invocation_id, outcome)) = completion_of(&message) {
            if invocation_id == id {
                let result = match outcome {
                    CompletionOutcome::Result(value) => value.clone(),
                    CompletionOutcome::Void => Value::Null,
                    CompletionOutcome::Error(error) => panic!("{id} failed: {error}"),
                };
                return (result, before);
            }
        }
        before.push(message);
    }
}

/// Reopens `id` until the gateway answers the upgrade with `status` (it notices a dropped
/// socket asynchronously).
async fn reopen_refused(suite: &TestSuite, token: &str, id: &str, status: &str) {
    let what = format!("reattach refused with {status}");
    wait_until(
        &what,
        Duration::from_secs(5),
        async || match WsClient::open(suite, token, id, Protocol::Json).await {
            Err(error) if error.contains(status) => true,
            Ok(ws) => {
                ws.drop_abruptly();
                false
            }
            Err(error) => panic!("unexpected refusal: {error}"),
        },
    )
    .await;
}

#[tokio::test]
async fn a_dropped_stateful_websocket_is_replaced_without_losing_or_repeating_messages() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let token = suite.token(&ann);
    assert!(
        negotiate(&suite, &token, "").await["useStatefulReconnect"].is_null(),
        "not echoed unless asked"
    );
    let (id, mut ws) = stateful(&suite, &token).await;

    // Client messages #1 and #2; server messages #1 (completion), #2 (PresenceUpdate), #3.
    let create = invocation("0", "CreateList", vec![json!({"name": "Kept"})]);
    ws.send(std::slice::from_ref(&create)).await;
    let (list, _) = until_completion(&mut ws, "0").await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let join = invocation("1", "JoinList", vec![json!(list_id)]);
    ws.send(std::slice::from_ref(&join)).await;
    until_completion(&mut ws, "1").await;
    // The server acknowledges both within about a second.
    loop {
        if let HubMessage::Ack { sequence_id } = ws.next_message().await {
            assert_eq!(sequence_id, 2);
            break;
        }
    }
    // The client processed #1 and #2; #3 stays unacknowledged, and so does the reply to a
    // failing call (#4), which also shows the Ack was read before the socket drops.
    let failing = invocation("9", "Nope", vec![]);
    ws.send(&[HubMessage::Ack { sequence_id: 2 }, failing.clone()])
        .await;
    while completion_of(&ws.next_reply().await).map(|(id, _)| id) != Some("9") {}
    ws.drop_abruptly();

    // An event while the client is away (from Ann's other tab).
    let mut other_tab = suite.connect(&ann).await;
    other_tab
        .call("AddItem", json!([list_id, {"name": "While away"}]))
        .await;

    let mut ws = WsClient::open(&suite, &token, &id, Protocol::Json)
        .await
        .expect("reattach on the same token");
    assert_eq!(
        ws.next_message().await,
        HubMessage::Sequence { sequence_id: 3 },
        "Sequence comes first, from the oldest unacknowledged message"
    );
    // The client resends everything it sent (it may lack Acks), then a new call.
    ws.send(&[
        HubMessage::Sequence { sequence_id: 1 },
        create,
        join,
        failing,
        invocation("2", "GetList", vec![json!(list_id)]),
    ])
    .await;
    let (snapshot, before) = until_completion(&mut ws, "2").await;
    assert_eq!(snapshot["items"][0]["name"], "While away");
    let seen: Vec<_> = before
        .iter()
        .map(|message| match message {
            HubMessage::Invocation { target, .. } => target.clone(),
            HubMessage::Completion { invocation_id, .. } => format!("completion {invocation_id}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        seen,
        ["completion 1", "completion 9", "ItemAdded"],
        "the unacknowledged replies replayed, the missed event, no reply to resent calls"
    );
    ws.close().await;
    suite.stop().await;
}

#[tokio::test]
async fn a_stateful_connection_closed_properly_or_abandoned_cannot_be_reattached() {
    let suite = TestSuite::start_with_options(reaped_soon()).await;
    let token = suite.token(&User::new("Ann"));

    let (closed, ws) = stateful(&suite, &token).await;
    ws.close().await;
    reopen_refused(&suite, &token, &closed, "404").await;

    let (abandoned, ws) = stateful(&suite, &token).await;
    ws.drop_abruptly();
    eventually("the abandoned connection reaped", || {
        suite.open_connections() == 0
    })
    .await;
    reopen_refused(&suite, &token, &abandoned, "404").await;
    suite.stop().await;
}

#[tokio::test]
async fn a_version_1_handshake_runs_without_stateful_reconnect() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let negotiated = negotiate(&suite, &token, "&useStatefulReconnect=true").await;
    let id = negotiated["connectionToken"].as_str().expect("token");
    let mut ws = WsClient::open(&suite, &token, id, Protocol::Json)
        .await
        .expect("websocket");
    ws.handshake(1).await;
    ws.send(&[invocation("0", "CreateList", vec![json!({"name": "L"})])])
        .await;
    until_completion(&mut ws, "0").await;
    ws.drop_abruptly();
    reopen_refused(&suite, &token, id, "404").await;

    // And a second socket on a live plain connection is a conflict.
    let id = connection_token(&suite, &token, "").await;
    let mut first = WsClient::open(&suite, &token, &id, Protocol::Json)
        .await
        .expect("websocket");
    first.handshake(1).await;
    let second = WsClient::open(&suite, &token, &id, Protocol::Json).await;
    assert!(second.is_err_and(|error| error.contains("409")));
    first.close().await;
    suite.stop().await;
}

#[tokio::test]
async fn a_client_sequence_ahead_of_what_the_server_received_closes_the_connection() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let (id, ws) = stateful(&suite, &token).await;
    ws.drop_abruptly();
    let mut ws = WsClient::open(&suite, &token, &id, Protocol::Json)
        .await
        .expect("reattach");
    assert_eq!(
        ws.next_message().await,
        HubMessage::Sequence { sequence_id: 1 }
    );
    ws.send(&[HubMessage::Sequence { sequence_id: 5 }]).await;
    assert_eq!(
        ws.close_message().await,
        HubMessage::Close {
            error: Some(
                "Connection closed with an error. Sequence ID greater than amount of messages we've received."
                    .to_owned()
            ),
            allow_reconnect: true,
        }
    );
    suite.stop().await;
}

#[tokio::test]
async fn a_credential_the_services_refuse_closes_the_connection_for_good() {
    let suite = TestSuite::start_with_service_secret("a-secret-the-gateway-does-not-use").await;
    let token = suite.token(&User::new("Ann"));
    let id = connection_token(&suite, &token, "").await;
    let mut ws = WsClient::open(&suite, &token, &id, Protocol::Json)
        .await
        .expect("the gateway admits the token");
    ws.handshake(1).await;
    ws.send(&[invocation("0", "CreateList", vec![json!({"name": "L"})])])
        .await;
    let HubMessage::Completion { outcome, .. } = ws.next_reply().await else {
        panic!("a completion");
    };
    assert_eq!(
        outcome,
        CompletionOutcome::Error(
            "An unexpected error occurred invoking 'CreateList' on the server. HubException: Access denied"
                .to_owned()
        )
    );
    // No allowReconnect: a client with automatic reconnect must not come back with it.
    assert_eq!(
        ws.close_message().await,
        HubMessage::Close {
            error: Some("The credential is no longer accepted.".to_owned()),
            allow_reconnect: false,
        }
    );
    suite.stop().await;
}
