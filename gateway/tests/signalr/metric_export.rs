//! What every process serves at `/metrics` also reaches an OTLP collector, every export
//! interval, under the spans' resource: the values the collector receives are the values a
//! scrape reads, and they move by exactly a workload's count.
//!
//! As in `traces`, the test exports through a subscriber of its own, the default of its thread,
//! where the whole suite runs.

use std::time::Duration;

use pulse_telemetry::{MetricSchedule, Telemetry};
use pulse_testkit::{Collector, MetricKind, ReceivedPoint};
use serde_json::json;

use crate::{
    create_list,
    helpers::{TestSuite, User},
    metrics::{invocations, scrape_url_until, Scrape, ADD_ITEM_OK, ADD_ITEM_TIMED},
};

const ADD_ITEM: &str = "/pulse.lists.v1.ShoppingLists/AddItem";

/// Waits for an export whose latest point `name{attributes}` from `scope` has `value`.
async fn exported(
    collector: &Collector,
    scope: &str,
    name: &str,
    attributes: &[(&str, &str)],
    value: u64,
) -> ReceivedPoint {
    collector
        .wait_for_metrics(&format!("{scope} exporting {name} = {value}"), |points| {
            points
                .iter()
                .rev()
                .find(|point| point.is(scope, name, attributes))
                .filter(|point| point.value == value as f64)
                .cloned()
        })
        .await
}

#[tokio::test]
async fn exported_metrics_equal_what_metrics_shows_and_move_by_the_workload() {
    let collector = Collector::start().await;
    let (dispatch, _telemetry) = Telemetry::new("pulse-test")
        .otlp_metrics_endpoint(Some(collector.endpoint()))
        .metric_schedule(MetricSchedule {
            interval: Duration::from_millis(100),
            timeout: Duration::from_secs(5),
        })
        .build()
        .expect("telemetry");
    let _default = tracing::dispatcher::set_default(&dispatch);
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let list_id = create_list(&mut ann, "Groceries").await;
    let lists = format!("http://{}/metrics", suite.lists);
    let gateway = suite.http("/metrics");
    let (lists_before, gateway_before) = (Scrape::of(&lists).await, Scrape::of(&gateway).await);

    let adds = 4;
    for n in 0..adds {
        let completion = ann
            .invoke("AddItem", json!([list_id, {"name": format!("item {n}")}]))
            .await;
        assert!(completion.get("error").is_none(), "{completion}");
    }
    let added_ok = lists_before.count(ADD_ITEM_OK) + adds;
    let lists_after = scrape_url_until(&lists, "the adds counted", |scrape| {
        scrape.count(ADD_ITEM_OK) == added_ok
    })
    .await;
    let invoked = invocations("AddItem", "ok");
    let gateway_after = Scrape::of(&gateway).await;
    assert_eq!(
        gateway_after.count(&invoked) - gateway_before.count(&invoked),
        adds
    );

    let ok = [("method", ADD_ITEM), ("status", "OK")];
    let commands = exported(&collector, "lists", "pulse_commands_total", &ok, added_ok).await;
    assert_eq!(commands.kind, MetricKind::Counter);
    assert_eq!(commands.service, "pulse-test", "the spans' resource");
    let timed = exported(
        &collector,
        "lists",
        "pulse_command_duration_seconds",
        &[("method", ADD_ITEM)],
        lists_after.count(ADD_ITEM_TIMED),
    )
    .await;
    assert_eq!(timed.kind, MetricKind::Histogram);
    let hub = [
        ("hub", "shopping-list"),
        ("method", "AddItem"),
        ("outcome", "ok"),
    ];
    let invocations = exported(
        &collector,
        "gateway",
        "pulse_gateway_invocations_total",
        &hub,
        gateway_after.count(&invoked),
    )
    .await;
    assert_eq!(invocations.kind, MetricKind::Counter);
    suite.stop().await;
}
