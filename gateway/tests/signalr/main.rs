//! The gateway against the real shopping-list service, NATS and PostgreSQL,
//! driven by a raw SignalR JSON client (the official client's behaviour is
//! covered by the conformance tests in `tests/conformance`).

mod allocations;
mod catch_up;
mod cleanup;
mod drain;
mod hardening;
mod helpers;
mod idle_memory;
mod limits;
mod limits_http;
mod logs;
mod metric_export;
mod metrics;
mod no_sticky;
mod presence;
mod raw;
mod slow_consumer;
mod stateful;
mod streams;
mod traces;
mod transports;
mod user_groups;
mod web_app;
mod websocket_frames;

use std::time::Duration;

use helpers::{RawClient, TestSuite, User, HUB};
use pulse_proto::lists::v1::{shopping_lists_client::ShoppingListsClient, AddItemRequest, NewItem};
use serde_json::{json, Value};

async fn create_list(client: &mut RawClient, name: &str) -> String {
    let list = client.call("CreateList", json!([{"name": name}])).await;
    list["id"].as_str().expect("list id").to_owned()
}

fn error_text(completion: &Value) -> &str {
    completion["error"].as_str().expect("an error completion")
}

/// A gRPC subscription to a list's events from now on: a witness that events were published,
/// which joins no presence and so adds no event of its own.
async fn follow_list(
    suite: &TestSuite,
    user: &User,
    list_id: &str,
) -> tonic::Streaming<pulse_proto::gateway::v1::SubscriptionMessage> {
    use pulse_proto::gateway::v1::{
        follow::Target, subscriptions_client::SubscriptionsClient, Follow, SubscribeRequest,
    };
    let mut client = SubscriptionsClient::connect(format!("http://{}", suite.gateway_grpc))
        .await
        .expect("connect");
    let mut request = tonic::Request::new(SubscribeRequest {
        follows: vec![Follow {
            target: Some(Target::ListId(list_id.to_owned())),
            after_sequence: None,
        }],
    });
    let bearer = format!("Bearer {}", suite.token(user));
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().expect("header"));
    client
        .subscribe(request)
        .await
        .expect("subscribe")
        .into_inner()
}

#[tokio::test]
async fn negotiate_and_connect_refuse_missing_or_forged_tokens() {
    let suite = TestSuite::start().await;
    let http = reqwest::Client::new();
    let negotiate = suite.http(&format!("{HUB}/negotiate?negotiateVersion=1"));
    let missing = http.post(&negotiate).send().await.expect("request");
    assert_eq!(missing.status(), 401);

    let forger = pulse_auth::JwtValidator::new(&pulse_auth::JwtKeys::Hs256(
        "other-secret".to_owned().into(),
    ))
    .expect("validator");
    let forged = forger
        .mint(&pulse_auth::TokenRequest {
            sub: uuid::Uuid::new_v4(),
            name: "Mallory".into(),
            roles: vec![],
            exp: chrono::Utc::now().timestamp() + 60,
        })
        .expect("mint");
    let refused = http
        .post(&negotiate)
        .bearer_auth(&forged)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);
    let connect = http
        .get(suite.http(&format!("{HUB}?id=x&access_token={forged}")))
        .send()
        .await
        .expect("request");
    assert_eq!(connect.status(), 401);
    suite.stop().await;
}

#[tokio::test]
async fn negotiate_answers_both_versions_with_url_safe_ids() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let http = reqwest::Client::new();
    let negotiate = |query: &'static str| {
        http.post(suite.http(&format!("{HUB}/negotiate{query}")))
            .bearer_auth(&token)
            .send()
    };
    let v1: Value = negotiate("?negotiateVersion=1")
        .await
        .expect("v1")
        .json()
        .await
        .expect("json");
    assert_eq!(v1["negotiateVersion"], 1);
    let connection_token = v1["connectionToken"].as_str().expect("token");
    // The issuing gateway's 11-character tag, then 22 characters of 16 random bytes (as .NET).
    assert_eq!(connection_token.len(), 33);
    assert!(connection_token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert_ne!(v1["connectionId"], v1["connectionToken"]);
    assert_eq!(
        v1["availableTransports"],
        json!([
            {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
            {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
            {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
        ])
    );
    assert!(v1.get("useStatefulReconnect").is_none());

    let v0: Value = negotiate("").await.expect("v0").json().await.expect("json");
    assert_eq!(v0["negotiateVersion"], 0);
    assert!(v0.get("connectionToken").is_none());

    let bad: Value = negotiate("?negotiateVersion=abc")
        .await
        .expect("bad")
        .json()
        .await
        .expect("json");
    assert_eq!(
        bad["error"],
        "The client requested a non-integer protocol version."
    );
    suite.stop().await;
}

#[tokio::test]
async fn a_connection_token_is_used_once_and_unknown_ones_are_not_found() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let negotiated: Value = reqwest::Client::new()
        .post(suite.http(&format!("{HUB}/negotiate?negotiateVersion=1")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("negotiate")
        .json()
        .await
        .expect("json");
    let id = negotiated["connectionToken"].as_str().expect("token");
    let url = format!("ws://{}{HUB}?id={id}&access_token={token}", suite.gateway);
    let _first = tokio_tungstenite::connect_async(&url)
        .await
        .expect("first attach");
    let second = tokio_tungstenite::connect_async(&url)
        .await
        .expect_err("second attach");
    assert!(second.to_string().contains("409"), "{second}");
    let unknown = format!("ws://{}{HUB}?id=nope&access_token={token}", suite.gateway);
    let missing = tokio_tungstenite::connect_async(&unknown)
        .await
        .expect_err("unknown id");
    assert!(missing.to_string().contains("404"), "{missing}");
    suite.stop().await;
}

#[tokio::test]
async fn unknown_methods_and_bad_arguments_fail_only_the_invocation() {
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let unknown = ann.invoke("Nope", json!([])).await;
    assert_eq!(error_text(&unknown), "Unknown hub method 'Nope'");
    let bad = ann.invoke("JoinList", json!(["a", "b"])).await;
    assert_eq!(
        error_text(&bad),
        "Failed to invoke 'JoinList' due to an error on the server. InvalidDataException: Invocation provides 2 argument(s) but target expects 1."
    );
    let invalid = ann.invoke("CreateList", json!([{"name": "  "}])).await;
    assert!(
        error_text(&invalid).starts_with(
            "An unexpected error occurred invoking 'CreateList' on the server. HubException: "
        ),
        "{invalid}"
    );
    // Still connected; method names are case-insensitive.
    let list = ann.call("createList", json!([{"name": "Groceries"}])).await;
    assert_eq!(list["name"], "Groceries");
    suite.stop().await;
}

#[tokio::test]
async fn a_send_without_invocation_id_gets_no_reply() {
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    ann.send_text("{\"type\":1,\"target\":\"Nope\",\"arguments\":[]}\u{1e}")
        .await;
    let completion = ann
        .invoke("CreateList", json!([{"name": "Groceries"}]))
        .await;
    assert_eq!(completion["invocationId"], "0");
    assert!(ann.expect_no_reply_pending());
    suite.stop().await;
}

#[tokio::test]
async fn outsiders_are_denied_and_members_get_events_of_their_list() {
    let suite = TestSuite::start().await;
    let (ann_user, bob_user) = (User::new("Ann"), User::new("Bob"));
    let mut ann = suite.connect(&ann_user).await;
    let mut bob = suite.connect(&bob_user).await;
    let list_id = create_list(&mut ann, "Groceries").await;
    let denied = bob.invoke("JoinList", json!([list_id])).await;
    assert_eq!(
        error_text(&denied),
        "An unexpected error occurred invoking 'JoinList' on the server. HubException: Access denied"
    );
    ann.call("JoinList", json!([list_id])).await;
    let presence = ann.event("PresenceUpdate").await;
    assert_eq!(presence["activeUsers"][0]["id"], ann_user.id.to_string());
    let item = ann
        .call("AddItem", json!([list_id, {"name": "Milk", "quantity": 2}]))
        .await;
    let added = ann.event("ItemAdded").await;
    assert_eq!(added["item"], item);
    assert_eq!(added["listId"], list_id);
    assert!(added["sequence"].as_u64().is_some());
    bob.expect_no_event(Duration::from_millis(300)).await;
    suite.stop().await;
}

#[tokio::test]
async fn malformed_or_oversized_input_closes_only_that_connection() {
    let suite = TestSuite::start().await;
    let ann_user = User::new("Ann");
    let mut ann = suite.connect(&ann_user).await;
    let list_id = create_list(&mut ann, "Groceries").await;
    ann.call("JoinList", json!([list_id])).await;

    let mut garbage = suite.connect(&ann_user).await;
    garbage.send_text("{this is not json\u{1e}").await;
    let close = garbage.closed().await.expect("a Close message");
    assert!(close["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("Connection closed with an error.")));
    assert_eq!(close["allowReconnect"], true);

    let mut oversized = suite.connect(&ann_user).await;
    oversized.send_text(&"x".repeat(4096)).await;
    let close = oversized.closed().await.expect("a Close message");
    assert!(
        close["error"]
            .as_str()
            .is_some_and(|e| e.contains("The maximum message size of 1024B was exceeded.")),
        "{close}"
    );

    ann.call("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    assert_eq!(ann.event("ItemAdded").await["item"]["name"], "Milk");
    suite.stop().await;
}

#[tokio::test]
async fn commands_through_grpc_reach_hub_members_as_the_same_event() {
    let suite = TestSuite::start().await;
    let ann_user = User::new("Ann");
    let mut ann = suite.connect(&ann_user).await;
    let list_id = create_list(&mut ann, "Groceries").await;
    ann.call("JoinList", json!([list_id])).await;

    let mut grpc = ShoppingListsClient::connect(format!("http://{}", suite.lists))
        .await
        .expect("grpc");
    let mut request = tonic::Request::new(AddItemRequest {
        list_id: list_id.clone(),
        item: Some(NewItem {
            name: "Bread".into(),
            ..Default::default()
        }),
    });
    let bearer = format!("Bearer {}", suite.token(&ann_user));
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().expect("header"));
    let item = grpc.add_item(request).await.expect("AddItem").into_inner();
    let added = ann.event("ItemAdded").await;
    assert_eq!(added["item"]["id"], item.id);
    assert_eq!(added["item"]["createdBy"]["displayName"], "Ann");
    suite.stop().await;
}

#[tokio::test]
async fn events_committed_while_nats_is_down_arrive_once_in_order_after_it_returns() {
    let mut nats = pulse_testkit::NatsServer::start();
    let suite = TestSuite::start_on(&nats.url()).await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let list_id = create_list(&mut ann, "Groceries").await;
    ann.call("JoinList", json!([list_id])).await;

    nats.stop();
    for name in ["Milk", "Bread", "Eggs"] {
        ann.call("AddItem", json!([list_id, {"name": name}])).await;
    }
    nats.restart();

    let mut sequences = Vec::new();
    for name in ["Milk", "Bread", "Eggs"] {
        let added = ann.event("ItemAdded").await;
        assert_eq!(added["item"]["name"], name);
        sequences.push(added["sequence"].as_u64().expect("sequence"));
    }
    assert!(
        sequences.windows(2).all(|w| w[1] == w[0] + 1),
        "{sequences:?}"
    );
    ann.expect_no_event(Duration::from_millis(500)).await;
    suite.stop().await;
}
