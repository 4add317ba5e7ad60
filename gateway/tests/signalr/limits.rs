//! The limits every internet-facing server needs, each set small here: groups per connection,
//! invocations per connection, write commands per user, connections per user, connections
//! waiting for their transport, the virtual-key cache, and a method a credential may not use
//! (a hub error, not a revocation).

use std::time::Duration;

use pulse_proto::tasks::v1::{
    virtual_keys_client::VirtualKeysClient, CreateVirtualKeyRequest, VirtualKeyRequest,
};
use pulse_testkit::wait_until;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{RawClient, SuiteOptions, TestSuite, User, HUB, MASTER_KEY};
use crate::{create_list, error_text};

const SLOW_DOWN: &str = "HubException: Too many requests; slow down.";
const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
const PING: &str = "{\"type\":6}\u{1e}";

async fn suite_with(args: &[&str]) -> TestSuite {
    TestSuite::start_with_options(SuiteOptions {
        gateway_args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..SuiteOptions::default()
    })
    .await
}

async fn key_suite(args: &[&str]) -> TestSuite {
    TestSuite::start_with_options(SuiteOptions {
        gateway_args: args.iter().map(|a| (*a).to_owned()).collect(),
        key_services: true,
        ..SuiteOptions::default()
    })
    .await
}

/// A virtual key from the suite's task service: (id, secret).
async fn create_key(suite: &TestSuite) -> (String, String) {
    let mut keys = key_admin(suite).await;
    let created = keys
        .create_virtual_key(as_master(CreateVirtualKeyRequest {
            name: "studio".into(),
            budget: None,
        }))
        .await
        .expect("key created")
        .into_inner();
    (created.key.expect("key").id, created.secret)
}

async fn key_admin(suite: &TestSuite) -> VirtualKeysClient<tonic::transport::Channel> {
    let tasks = suite.task_service.expect("the suite runs the task service");
    VirtualKeysClient::connect(format!("http://{tasks}"))
        .await
        .expect("task service")
}

fn as_master<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let bearer = format!("Bearer {MASTER_KEY}");
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().expect("header"));
    request
}

async fn negotiate_status(suite: &TestSuite, hub: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(suite.http(&format!("{hub}/negotiate?negotiateVersion=1")))
        .bearer_auth(token)
        .send()
        .await
        .expect("negotiate")
}

#[tokio::test]
async fn a_virtual_key_calling_get_notifications_gets_a_hub_error_and_stays_connected() {
    let suite = key_suite(&[]).await;
    let (_, key) = create_key(&suite).await;
    let mut tab = RawClient::connect_to(suite.gateway, "/hubs/notifications", &key).await;
    let refused = tab.invoke("GetNotifications", json!([null])).await;
    assert_eq!(
        error_text(&refused),
        "An unexpected error occurred invoking 'GetNotifications' on the server. HubException: \
         GetNotifications is for signed-in users; a virtual key receives system notifications only"
    );
    // Still connected and still accepted: the call fails the same way again, no Close.
    let again = tab.invoke("getNotifications", json!([5])).await;
    assert!(again["error"].is_string(), "{again}");
    tab.call("GetMissedEvents", json!([0])).await;
    suite.stop().await;
}

#[tokio::test]
async fn a_join_over_the_group_cap_fails_and_changes_nothing() {
    let suite = suite_with(&["--max-groups-per-connection", "2"]).await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let mut lists = Vec::new();
    for name in ["a", "b", "c"] {
        lists.push(create_list(&mut ann, name).await);
    }
    ann.call("JoinList", json!([lists[0]])).await;
    ann.call("JoinList", json!([lists[1]])).await;
    // Joining a group it is in already is not a new one.
    ann.call("JoinList", json!([lists[1]])).await;
    let before = suite.node_stats();
    let refused = ann.invoke("JoinList", json!([lists[2]])).await;
    assert_eq!(
        error_text(&refused),
        "An unexpected error occurred invoking 'JoinList' on the server. HubException: \
         Too many groups on this connection (at most 2); leave one first."
    );
    assert_eq!(suite.node_stats(), before, "no group or member was added");
    ann.call("LeaveList", json!([lists[0]])).await;
    ann.call("JoinList", json!([lists[2]])).await;
    suite.stop().await;
}

#[tokio::test]
async fn invocations_over_the_connection_burst_get_a_hub_error_not_a_disconnect() {
    let suite = suite_with(&["--invocations-per-second", "1", "--invocation-burst", "3"]).await;
    let ann_user = User::new("Ann");
    let mut ann = suite.connect(&ann_user).await;
    // Four at once, so all are checked within the same instant; every invocation counts, even
    // one that would fail anyway.
    let nope = |id: u32| {
        format!(
            "{{\"type\":1,\"invocationId\":\"n{id}\",\"target\":\"Nope\",\"arguments\":[]}}\u{1e}"
        )
    };
    ann.send_text(&(0..4).map(nope).collect::<String>()).await;
    let mut errors = Vec::new();
    while errors.len() < 4 {
        let message = ann.next_message().await;
        if message["type"] == 3 {
            errors.push(error_text(&message).to_owned());
        }
    }
    assert_eq!(errors[..3], ["Unknown hub method 'Nope'"; 3]);
    assert!(errors[3].ends_with(SLOW_DOWN), "{errors:?}");
    // A fresh connection of the same user has its own bucket.
    let mut tab = suite.connect(&ann_user).await;
    create_list(&mut tab, "Groceries").await;
    // The refused one is still connected and carries on once a token comes back (1 per second).
    wait_until("a token came back", Duration::from_secs(5), async || {
        let completion = ann.invoke("CreateList", json!([{"name": "Later"}])).await;
        let accepted = completion.get("error").is_none();
        if !accepted {
            assert!(error_text(&completion).ends_with(SLOW_DOWN));
        }
        accepted
    })
    .await;
    suite.stop().await;
}

#[tokio::test]
async fn write_commands_are_limited_per_user_across_connections() {
    let suite = suite_with(&["--writes-per-second", "1", "--write-burst", "2"]).await;
    let ann_user = User::new("Ann");
    let mut tabs = Vec::new();
    for _ in 0..3 {
        tabs.push(suite.connect(&ann_user).await);
    }
    // One CreateList from each of three tabs at once: the user's bucket holds two.
    let created = futures::future::join_all(
        tabs.iter_mut()
            .map(|tab| tab.invoke("CreateList", json!([{"name": "L"}]))),
    )
    .await;
    let (lists, refused): (Vec<&Value>, Vec<&Value>) =
        created.iter().partition(|c| c.get("error").is_none());
    assert_eq!((lists.len(), refused.len()), (2, 1), "{created:?}");
    assert!(error_text(refused[0]).ends_with(SLOW_DOWN), "{created:?}");
    // Reads and other commands are not in that bucket; other users have their own.
    let list = lists[0]["result"]["id"].clone();
    tabs[0].call("GetList", json!([list])).await;
    tabs[0]
        .call("AddItem", json!([list, {"name": "Milk"}]))
        .await;
    let mut bob = suite.connect(&User::new("Bob")).await;
    create_list(&mut bob, "Bob's").await;
    suite.stop().await;
}

#[tokio::test]
async fn a_user_over_the_connection_cap_gets_429_on_negotiate_and_connect() {
    let suite = suite_with(&["--max-connections-per-user", "2"]).await;
    let ann = suite.token(&User::new("Ann"));
    let _first = RawClient::connect(&suite, &ann).await;
    let negotiated = negotiate_status(&suite, HUB, &ann).await;
    assert_eq!(negotiated.status(), StatusCode::OK);
    let refused = negotiate_status(&suite, HUB, &ann).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.text().await.expect("body"),
        "Too many connections for this user or key; close one first"
    );
    let url = format!("ws://{}{HUB}?access_token={ann}", suite.gateway);
    let direct = tokio_tungstenite::connect_async(&url)
        .await
        .expect_err("a WebSocket without negotiation is refused too");
    assert!(direct.to_string().contains("429"), "{direct}");
    let bob = suite.token(&User::new("Bob"));
    assert_eq!(
        negotiate_status(&suite, HUB, &bob).await.status(),
        StatusCode::OK
    );
    suite.stop().await;
}

#[tokio::test]
async fn negotiations_waiting_for_a_transport_are_capped_with_503_and_retry_after() {
    let suite = suite_with(&[
        "--max-pending-connections",
        "2",
        "--max-pending-bytes",
        "100",
    ])
    .await;
    let token = suite.token(&User::new("Ann"));
    let mut held = Vec::new();
    for _ in 0..2 {
        let body: Value = negotiate_status(&suite, HUB, &token)
            .await
            .json()
            .await
            .expect("json");
        held.push(body["connectionToken"].as_str().expect("id").to_owned());
    }
    let busy = negotiate_status(&suite, HUB, &token).await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "1");

    // Bytes sent ahead of the transport count against their own cap.
    let http = reqwest::Client::new();
    let post = |id: &str, bytes: usize| {
        http.post(suite.http(&format!("{HUB}?id={id}")))
            .bearer_auth(&token)
            .body(vec![b' '; bytes])
            .send()
    };
    assert_eq!(post(&held[0], 60).await.expect("post").status(), 200);
    let over = post(&held[1], 60).await.expect("post");
    assert_eq!(over.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(over.headers()["retry-after"], "1");

    // Once a transport takes a negotiation, it no longer counts.
    let (_ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}{HUB}?id={}&access_token={token}",
        suite.gateway, held[0]
    ))
    .await
    .expect("attached");
    assert_eq!(
        negotiate_status(&suite, HUB, &token).await.status(),
        StatusCode::OK
    );
    suite.stop().await;
}

/// POSTs `body` to a long-polling connection of the tasks hub.
async fn post_as(http: &reqwest::Client, url: &str, key: &str, body: &str) -> StatusCode {
    http.post(url)
        .bearer_auth(key)
        .body(body.to_owned())
        .send()
        .await
        .expect("post")
        .status()
}

#[tokio::test]
async fn long_polls_with_a_key_check_it_once_and_a_revocation_refuses_the_next_request_at_once() {
    // A long TTL: only the revocation can end the cached entry within the test.
    let suite = key_suite(&["--key-cache-ttl", "60s"]).await;
    let (key_id, key) = create_key(&suite).await;
    let http = reqwest::Client::new();
    let negotiated: Value = negotiate_status(&suite, "/hubs/tasks", &key)
        .await
        .json()
        .await
        .expect("json");
    let id = negotiated["connectionToken"].as_str().expect("id");
    let url = suite.http(&format!("/hubs/tasks?id={id}"));
    let poll = |url: String| http.get(url).bearer_auth(&key).send();
    assert_eq!(poll(url.clone()).await.expect("poll").status(), 200);
    assert_eq!(post_as(&http, &url, &key, HANDSHAKE).await, StatusCode::OK);
    let handshake = poll(url.clone()).await.expect("poll");
    assert_eq!(handshake.text().await.expect("body"), "{}\u{1e}");
    for _ in 0..20 {
        assert_eq!(post_as(&http, &url, &key, PING).await, StatusCode::OK);
    }
    assert_eq!(
        suite.virtual_key_checks(),
        1,
        "24 requests with one key ask the task service once"
    );

    key_admin(&suite)
        .await
        .revoke_virtual_key(as_master(VirtualKeyRequest {
            virtual_key_id: key_id,
        }))
        .await
        .expect("revoked");
    wait_until(
        "the revoked key refused",
        Duration::from_secs(1),
        async || post_as(&http, &url, &key, PING).await == StatusCode::UNAUTHORIZED,
    )
    .await;
    let refused = negotiate_status(&suite, "/hubs/tasks", &key).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    suite.stop().await;
}
