//! `GET /metrics` shows what the gateway holds while clients are connected, and falls back to
//! zero once they are gone; a service's `GET /metrics` (on its gRPC port) counts its commands
//! and its outbox's work exactly.

use std::{panic::AssertUnwindSafe, time::Duration};

use futures::FutureExt;
use pulse_proto::lists::v1::{shopping_lists_client::ShoppingListsClient, AddItemRequest, NewItem};
use serde_json::json;

use crate::{
    create_list, follow_list,
    helpers::{TestSuite, User},
};

/// How long the gateway may take to count a change (clean-up after a drop is asynchronous).
const WAIT: Duration = Duration::from_secs(10);

const SHOPPING_LIST_WEBSOCKETS: &str =
    "pulse_gateway_connections{hub=\"shopping-list\",transport=\"WebSockets\"}";

/// One scrape of the endpoint.
pub(crate) struct Scrape(String);

impl Scrape {
    /// The gateway's metrics.
    async fn take(suite: &TestSuite) -> Self {
        Self::of(&suite.http("/metrics")).await
    }

    pub(crate) async fn of(url: &str) -> Self {
        let response = reqwest::get(url)
            .await
            .expect("scrape")
            .error_for_status()
            .expect("scrape 200");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        Self(response.text().await.expect("scrape body"))
    }

    /// The value of the sample named `series` (a name, with its labels if it has any).
    pub(crate) fn value(&self, series: &str) -> u64 {
        self.0
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no sample {series} in\n{}", self.0))
            .parse()
            .expect("an integer sample")
    }

    /// The samples of every series whose name and labels start with `prefix`, added up.
    pub(crate) fn sum(&self, prefix: &str) -> u64 {
        self.0
            .lines()
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
            .sum()
    }

    /// [`Scrape::value`], 0 for a series not shown yet (a label pair not seen yet).
    pub(crate) fn count(&self, series: &str) -> u64 {
        self.0
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0, |value| value.parse().expect("an integer sample"))
    }
}

/// Scrapes until `holds`, failing after [`WAIT`]; returns the scrape that held.
pub(crate) async fn scrape_until(
    suite: &TestSuite,
    what: &str,
    holds: impl Fn(&Scrape) -> bool,
) -> Scrape {
    scrape_url_until(&suite.http("/metrics"), what, holds).await
}

/// [`scrape_until`] for the metrics at `url`. A wait that fails shows the last scrape, which
/// says what the gateway counted instead.
pub(crate) async fn scrape_url_until(
    url: &str,
    what: &str,
    holds: impl Fn(&Scrape) -> bool,
) -> Scrape {
    let mut last = String::new();
    let waited = AssertUnwindSafe(pulse_testkit::poll_until(what, WAIT, async || {
        let scrape = Scrape::of(url).await;
        if holds(&scrape) {
            return Some(scrape);
        }
        last = scrape.0;
        None
    }))
    .catch_unwind()
    .await;
    waited.unwrap_or_else(|failure| {
        eprintln!("last scrape:\n{last}");
        std::panic::resume_unwind(failure)
    })
}

#[tokio::test]
async fn metrics_count_connections_members_and_deliveries_and_fall_back_to_zero() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(suite.connect(&ann).await);
    }
    let list_id = create_list(&mut clients[0], "Groceries").await;
    for client in &mut clients {
        client.call("JoinList", json!([list_id])).await;
    }
    let stream = follow_list(&suite, &ann, &list_id).await;

    let joined = Scrape::take(&suite).await;
    assert_eq!(joined.value(SHOPPING_LIST_WEBSOCKETS), 3);
    assert_eq!(joined.value("pulse_gateway_groups"), 1);
    // Three connections and the gRPC subscription.
    assert_eq!(joined.value("pulse_gateway_group_members"), 4);
    assert_eq!(joined.value("pulse_gateway_grpc_streams"), 1);
    assert_eq!(joined.value("pulse_gateway_slow_consumer_closes_total"), 0);

    let before = joined.value("pulse_gateway_events_delivered_total");
    clients[0]
        .call("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    for client in &mut clients {
        assert_eq!(client.event("ItemAdded").await["item"]["name"], "Milk");
    }
    // Each member got the event; the count is added once the fan-out of the event is done.
    scrape_until(&suite, "the deliveries counted", |scrape| {
        scrape.value("pulse_gateway_events_delivered_total") >= before + 4
    })
    .await;

    drop(clients);
    drop(stream);
    let gone = scrape_until(&suite, "every gauge back at zero", |scrape| {
        [
            SHOPPING_LIST_WEBSOCKETS,
            "pulse_gateway_groups",
            "pulse_gateway_group_members",
            "pulse_gateway_grpc_streams",
            "pulse_gateway_outbound_queued_bytes",
        ]
        .iter()
        .all(|series| scrape.value(series) == 0)
    })
    .await;
    // Counters do not fall back.
    assert!(gone.value("pulse_gateway_events_delivered_total") >= before + 4);
    suite.stop().await;
}

pub(crate) const ADD_ITEM_OK: &str =
    "pulse_commands_total{method=\"/pulse.lists.v1.ShoppingLists/AddItem\",status=\"OK\"}";
const ADD_ITEM_NOT_FOUND: &str =
    "pulse_commands_total{method=\"/pulse.lists.v1.ShoppingLists/AddItem\",status=\"NOT_FOUND\"}";
pub(crate) const ADD_ITEM_TIMED: &str =
    "pulse_command_duration_seconds_count{method=\"/pulse.lists.v1.ShoppingLists/AddItem\"}";

#[tokio::test]
async fn service_metrics_move_by_exactly_the_commands_and_events_of_a_workload() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut client = suite.connect(&ann).await;
    let list_id = create_list(&mut client, "Groceries").await;
    let metrics = format!("http://{}/metrics", suite.lists);
    let before = scrape_url_until(&metrics, "the list's event published", |scrape| {
        scrape.value("pulse_outbox_rows") == 0 && scrape.value("pulse_relay_leader") == 1
    })
    .await;

    let mut lists = ShoppingListsClient::connect(format!("http://{}", suite.lists))
        .await
        .expect("grpc");
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {}", suite.token(&ann))
        .parse()
        .expect("header");
    let add = |list_id: &str, name: &str| {
        let mut request = tonic::Request::new(AddItemRequest {
            list_id: list_id.to_owned(),
            item: Some(NewItem {
                name: name.to_owned(),
                ..Default::default()
            }),
        });
        request
            .metadata_mut()
            .insert("authorization", bearer.clone());
        request
    };
    let adds = 5;
    for n in 0..adds {
        lists
            .add_item(add(&list_id, &format!("item {n}")))
            .await
            .expect("AddItem");
    }
    let missing = lists
        .add_item(add(&uuid::Uuid::new_v4().to_string(), "nowhere"))
        .await
        .expect_err("no such list");
    assert_eq!(missing.code(), tonic::Code::NotFound);

    let published = before.value("pulse_relay_published_total") + adds;
    let after = scrape_url_until(&metrics, "the adds' events published", |scrape| {
        scrape.value("pulse_relay_published_total") >= published
            && scrape.value("pulse_outbox_rows") == 0
    })
    .await;
    let moved = |series: &str| after.count(series) - before.count(series);
    assert_eq!(moved("pulse_relay_published_total"), adds);
    assert_eq!(moved(ADD_ITEM_OK), adds);
    assert_eq!(moved(ADD_ITEM_NOT_FOUND), 1);
    assert_eq!(moved(ADD_ITEM_TIMED), adds + 1);
    assert_eq!(moved("pulse_relay_publish_failures_total"), 0);
    assert!(after.value("pulse_relay_publish_duration_seconds_count") >= 1);
    assert_eq!(after.value("pulse_relay_leader"), 1);
    suite.stop().await;
}

/// `pulse_gateway_invocations_total` of the shopping-list hub.
pub(crate) fn invocations(method: &str, outcome: &str) -> String {
    format!(
        "pulse_gateway_invocations_total{{hub=\"shopping-list\",method=\"{method}\",outcome=\"{outcome}\"}}"
    )
}

const PUSHES_TIMED: &str = "pulse_gateway_push_latency_seconds_count";
const DELIVERED: &str = "pulse_gateway_events_delivered_total";

const UNSUPPORTED_PROTOCOL: &str =
    "pulse_gateway_handshake_failures_total{reason=\"unsupported_protocol\"}";

#[tokio::test]
async fn gateway_metrics_count_invocations_handshake_failures_and_pushes_exactly() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut client = suite.connect(&ann).await;
    let list_id = create_list(&mut client, "Groceries").await;
    client.call("JoinList", json!([list_id])).await;
    client.event("PresenceUpdate").await;
    let before = Scrape::take(&suite).await;

    let adds = 3;
    for n in 0..adds {
        client
            .call("AddItem", json!([list_id, {"name": format!("item {n}")}]))
            .await;
        client.event("ItemAdded").await;
    }
    let unknown = client.invoke("NoSuchMethod", json!([])).await;
    assert!(unknown.get("error").is_some(), "{unknown}");
    let token = suite.token(&ann);
    let connection_token = crate::raw::connection_token(&suite, &token, "").await;
    let mut refused = crate::raw::WsClient::open(
        &suite,
        &token,
        &connection_token,
        pulse_gateway::protocol::Protocol::Json,
    )
    .await
    .expect("websocket");
    refused
        .send_raw(b"{\"protocol\":\"nope\",\"version\":1}\x1e".to_vec())
        .await;

    // The client may read its last event before the gateway's flush returns and times it.
    let after = scrape_until(
        &suite,
        "the refused handshake and the pushes counted",
        |scrape| {
            scrape.count(UNSUPPORTED_PROTOCOL) > before.count(UNSUPPORTED_PROTOCOL)
                && scrape.count(PUSHES_TIMED) >= before.count(PUSHES_TIMED) + adds
        },
    )
    .await;
    let moved = |series: &str| after.count(series) - before.count(series);
    assert_eq!(moved(&invocations("AddItem", "ok")), adds);
    assert_eq!(moved(&invocations("unknown", "unknown_method")), 1);
    assert_eq!(moved(&invocations("JoinList", "ok")), 0);
    assert_eq!(moved(UNSUPPORTED_PROTOCOL), 1);
    // Each event went out in a flush of its own.
    assert_eq!(moved(PUSHES_TIMED), adds);
    assert_eq!(moved("pulse_gateway_reconnects_total"), 0);
    suite.stop().await;
}

/// Events (server invocations) among the records of a long-poll response.
fn events_in(body: &str) -> Vec<serde_json::Value> {
    body.split('\u{1e}')
        .filter(|record| !record.is_empty())
        .map(|record| serde_json::from_str::<serde_json::Value>(record).expect("a JSON record"))
        .filter(|record| record["type"] == 1)
        .collect()
}

#[tokio::test]
async fn push_latency_is_timed_once_per_response_that_carried_events_when_it_is_written() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut writer = suite.connect(&ann).await;
    let list_id = create_list(&mut writer, "Groceries").await;
    // Only the long-polling connection follows the list: its events wait in its queue until
    // it polls.
    let poller = crate::raw::HttpConnection::negotiate(&suite, &suite.token(&ann)).await;
    assert_eq!(poller.poll().await.status(), reqwest::StatusCode::OK);
    let join = format!(
        "{{\"protocol\":\"json\",\"version\":1}}\u{1e}\
         {{\"type\":1,\"invocationId\":\"join\",\"target\":\"JoinList\",\"arguments\":[\"{list_id}\"]}}\u{1e}"
    );
    assert_eq!(poller.post(join).await, reqwest::StatusCode::OK);
    let mut received = String::new();
    while !received.contains("\"invocationId\":\"join\"") {
        received.push_str(&poller.poll().await.text().await.expect("poll body"));
    }
    let before = Scrape::take(&suite).await;

    let adds = 3;
    for n in 0..adds {
        writer
            .call("AddItem", json!([list_id, {"name": format!("item {n}")}]))
            .await;
    }
    let queued = scrape_until(&suite, "the adds queued for the poller", |scrape| {
        scrape.value(DELIVERED) >= before.value(DELIVERED) + adds
    })
    .await;
    assert_eq!(
        queued.value(PUSHES_TIMED),
        before.value(PUSHES_TIMED),
        "queued frames are not written yet"
    );

    let (mut added, mut responses_with_events) = (0, 0);
    while added < adds {
        let events = events_in(&poller.poll().await.text().await.expect("poll body"));
        responses_with_events += u64::from(!events.is_empty());
        added += events
            .iter()
            .filter(|event| event["target"] == "ItemAdded")
            .count() as u64;
    }
    let after = Scrape::take(&suite).await;
    assert_eq!(
        after.value(PUSHES_TIMED) - before.value(PUSHES_TIMED),
        responses_with_events,
        "one observation per response that carried events, however many it carried"
    );
    assert!(
        responses_with_events < adds,
        "the queued adds went out together"
    );
    suite.stop().await;
}
