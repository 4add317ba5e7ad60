//! One trace follows an `AddItem` from the hub invocation through the
//! shopping-list service, its transaction and outbox, the relay and the bus
//! to the gateway's dispatch to the list's group; and a collector that is
//! down costs the commands nothing, neither for spans nor for metrics.
//!
//! Each test exports through a subscriber of its own, set as the default of
//! its thread: the suite it starts runs on that one thread (the test
//! runtime's), so every span of the suite reaches the test's exporter and no
//! other test's.

use std::time::{Duration, Instant};

use pulse_telemetry::{MetricSchedule, Telemetry, TelemetryGuard};
use pulse_testkit::{Collector, ReceivedSpan};
use serde_json::json;
use tracing::dispatcher::DefaultGuard;

use super::{create_list, RawClient, TestSuite, User};

/// The gateway's span of a hub invocation of `method`.
fn invocation<'a>(spans: &'a [ReceivedSpan], method: &str) -> Option<&'a ReceivedSpan> {
    spans
        .iter()
        .find(|span| span.name == "invoke" && span.attribute("method") == Some(method))
}

/// The one span of the trace named `name` whose parent is `parent`.
fn child<'a>(spans: &'a [ReceivedSpan], parent: &ReceivedSpan, name: &str) -> &'a ReceivedSpan {
    let children: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|span| span.name == name && span.is_child_of(parent))
        .collect();
    assert_eq!(
        children.len(),
        1,
        "one {name} under {}: {spans:#?}",
        parent.name
    );
    children[0]
}

/// A suite exporting its spans to `endpoint`, with Ann in a list of her own.
struct Traced {
    suite: TestSuite,
    ann: RawClient,
    list_id: String,
    /// The test's subscriber stays its thread's default while this lives.
    _default: DefaultGuard,
    _telemetry: TelemetryGuard,
}

impl Traced {
    async fn start(endpoint: String) -> Self {
        let (dispatch, telemetry) = Telemetry::new("pulse-test")
            .otlp_endpoint(Some(endpoint))
            .metric_schedule(MetricSchedule {
                interval: Duration::from_millis(50),
                timeout: Duration::from_secs(1),
            })
            .build()
            .expect("telemetry");
        let default = tracing::dispatcher::set_default(&dispatch);
        let suite = TestSuite::start().await;
        let mut ann = suite.connect(&User::new("Ann")).await;
        let list_id = create_list(&mut ann, "Groceries").await;
        ann.call("JoinList", json!([list_id])).await;
        Self {
            suite,
            ann,
            list_id,
            _default: default,
            _telemetry: telemetry,
        }
    }
}

#[tokio::test]
async fn one_trace_follows_an_added_item_from_the_hub_to_the_group_dispatch() {
    let collector = Collector::start().await;
    // Bound whole: its guards keep the test subscriber in place.
    let mut traced = Traced::start(collector.endpoint()).await;
    traced
        .ann
        .call("AddItem", json!([traced.list_id, {"name": "Milk"}]))
        .await;
    traced.ann.event("ItemAdded").await;

    let trace = collector
        .wait_for("the AddItem trace down to its group dispatch", |spans| {
            let root = invocation(spans, "AddItem")?;
            let trace: Vec<ReceivedSpan> = spans
                .iter()
                .filter(|span| span.trace_id == root.trace_id)
                .cloned()
                .collect();
            trace
                .iter()
                .any(|span| span.name == "group dispatch")
                .then_some(trace)
        })
        .await;
    let invoke = invocation(&trace, "AddItem").expect("the invocation");
    assert!(
        invoke.parent_span_id.is_empty(),
        "the invocation starts the trace"
    );
    assert_eq!(invoke.attribute("hub"), Some("shopping-list"));
    let call = child(&trace, invoke, "/pulse.lists.v1.ShoppingLists/AddItem");
    let transaction = child(&trace, call, "batch");
    let wait = child(&trace, transaction, "outbox wait");
    let publish = child(&trace, transaction, "outbox publish");
    let dispatch = child(&trace, publish, "group dispatch");
    assert_eq!(dispatch.attribute("pulse.group.members"), Some("1"));
    assert_eq!(dispatch.attribute("pulse.group.delivered"), Some("1"));
    // Each step starts after the one that caused it.
    for (earlier, later) in [
        (invoke, call),
        (call, transaction),
        (transaction, wait),
        (wait, publish),
        (publish, dispatch),
    ] {
        assert!(
            earlier.start <= later.start,
            "{} starts before {}",
            earlier.name,
            later.name
        );
    }
    assert!(
        wait.end <= publish.start,
        "the wait ends when the publish starts"
    );
    for span in &trace {
        assert_eq!(span.service, "pulse-test");
        println!(
            "{:>40} {:>10.3} ms",
            span.name,
            span.duration().as_secs_f64() * 1e3
        );
    }
    traced.suite.stop().await;
}

#[tokio::test]
async fn joining_a_list_continues_the_invocations_trace_into_the_services_checks() {
    let collector = Collector::start().await;
    // Bound whole: its guards keep the test subscriber in place.
    let traced = Traced::start(collector.endpoint()).await;
    // The access check and the presence entry run on tasks shared by the
    // joiners of a crowd: they still carry the joining invocation's trace.
    let calls = [
        "/pulse.lists.v1.ShoppingLists/CheckAccess",
        "/pulse.lists.v1.ShoppingLists/EnterList",
    ];
    collector
        .wait_for(
            "the JoinList trace with the service's check and entry",
            |spans| {
                let root = invocation(spans, "JoinList")?;
                calls
                    .iter()
                    .all(|call| {
                        spans
                            .iter()
                            .any(|span| span.name == *call && span.trace_id == root.trace_id)
                    })
                    .then_some(())
            },
        )
        .await;
    traced.suite.stop().await;
}

#[tokio::test]
async fn commands_succeed_while_the_collector_is_down() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let failed_exports = pulse_telemetry::failed_metric_exports();
    // Bound whole: its guards keep the test subscriber in place.
    let mut traced = Traced::start(format!("http://{closed}")).await;
    let probe = tracing::info_span!("probe");
    assert!(
        probe
            .in_scope(pulse_telemetry::current_traceparent)
            .is_some(),
        "spans are traced, and exported to the closed port"
    );
    let started = Instant::now();
    let adds = 20;
    for n in 0..adds {
        let completion = traced
            .ann
            .invoke(
                "AddItem",
                json!([traced.list_id, {"name": format!("item {n}")}]),
            )
            .await;
        assert!(completion.get("error").is_none(), "{completion}");
        traced.ann.event("ItemAdded").await;
    }
    let elapsed: Duration = started.elapsed();
    println!(
        "{adds} adds with the collector down: {:.2} ms each",
        elapsed.as_secs_f64() * 1e3 / f64::from(adds)
    );
    // Metric exports (every 50 ms here) failed meanwhile, each dropped and counted.
    pulse_testkit::wait_until(
        "a failed metric export counted",
        Duration::from_secs(10),
        || async { pulse_telemetry::failed_metric_exports() != failed_exports },
    )
    .await;
    traced.suite.stop().await;
}
