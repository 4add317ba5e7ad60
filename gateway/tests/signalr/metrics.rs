//! `GET /metrics` shows what the gateway holds while clients are connected, and falls back to
//! zero once they are gone.

use std::time::Duration;

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
struct Scrape(String);

impl Scrape {
    async fn take(suite: &TestSuite) -> Self {
        let response = reqwest::get(suite.http("/metrics"))
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
    fn value(&self, series: &str) -> u64 {
        self.0
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no sample {series} in\n{}", self.0))
            .parse()
            .expect("an integer sample")
    }
}

/// Scrapes until `holds`, failing after [`WAIT`]; returns the scrape that held.
async fn scrape_until(suite: &TestSuite, what: &str, holds: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let scrape = Scrape::take(suite).await;
        if holds(&scrape) {
            return scrape;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {WAIT:?}; last scrape:\n{}",
            scrape.0
        );
        // Only paces the polling: the loop waits on its condition, bounded by its deadline.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
