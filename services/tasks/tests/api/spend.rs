//! Spend: records are stored at once and announced in aggregated
//! `SpendUpdate`s — at most one per key per window, deltas adding up exactly
//! to what was recorded, none lost across a restart — with budget alerts
//! once per threshold and unusual-spending warnings on spikes.

use std::time::Duration;

use futures::future::join_all;
use pulse_proto::tasks::v1::{
    event::Kind, ListVirtualKeysRequest, RecordSpendRequest, SetBudgetRequest, SpendUpdate,
};
use pulse_proto::tasks::SPEND;
use pulse_testkit::{assert_refused, expect_kind, Events};
use tokio::time::Instant;
use tonic::Code;

use crate::helpers::{create_key, key_id, spawn_app, spawn_app_with, uuid, AppOptions, Producers};

/// An amount as exact micro-units (payloads carry the nearest `f64`).
fn micros(amount: f64) -> i64 {
    (amount * 1e6).round() as i64
}

fn spend(virtual_key_id: &str, amount: f64) -> RecordSpendRequest {
    RecordSpendRequest {
        virtual_key_id: virtual_key_id.into(),
        amount,
        description: Some("gpt-image-1".into()),
    }
}

async fn record(producers: &mut Producers, virtual_key_id: &str, amount: f64) {
    producers
        .record_spend(spend(virtual_key_id, amount))
        .await
        .expect("spend recorded");
}

/// Short windows for tests that wait for many of them; no unusual-spending
/// warnings unless a test asks for them.
fn quick() -> AppOptions {
    AppOptions {
        spend_window: Duration::from_millis(300),
        spend_interval: Duration::from_millis(50),
        unusual_factor: 1e9,
        ..AppOptions::default()
    }
}

/// Checks an update's chain (`previous + delta = current`) and returns its
/// (previous, delta, current) in micro-units.
fn chain(update: &SpendUpdate) -> (i64, i64, i64) {
    let (previous, delta, current) = (
        micros(update.previous_spend),
        micros(update.delta),
        micros(update.current_spend),
    );
    assert_eq!(previous + delta, current, "{update:?}");
    (previous, delta, current)
}

async fn next_update(events: &mut Events, sequence: u64) -> (i64, i64, i64) {
    chain(&expect_kind!(events.expect(sequence).await, SpendUpdate))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_records_make_at_most_one_exact_update_per_second() {
    const RECORDS: u32 = 1000;
    const WORKERS: u32 = 8;
    const SPREAD: Duration = Duration::from_millis(2500);
    let app = spawn_app_with(AppOptions {
        unusual_factor: 1e9,
        db_max_connections: 10,
        ..AppOptions::default()
    })
    .await;
    let id = key_id(&create_key(&app, "Acme", None).await);
    let mut events = app.subscribe(SPEND.topic(uuid(&id))).await;
    let amount = |n: u32| f64::from(1 + (n * 7919) % 250_000) / 1e6;
    let total: i64 = (0..RECORDS).map(|n| micros(amount(n))).sum();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        workers.push(app.producers().await);
    }

    let start = Instant::now();
    join_all(
        workers
            .into_iter()
            .enumerate()
            .map(|(worker, mut producers)| {
                let id = id.clone();
                async move {
                    let worker = u32::try_from(worker).expect("few workers");
                    for n in (worker..RECORDS).step_by(WORKERS as usize) {
                        tokio::time::sleep_until(start + SPREAD * n / RECORDS).await;
                        record(&mut producers, &id, amount(n)).await;
                    }
                }
            }),
    )
    .await;
    // Spread over 2.5 s on a quiet machine; longer when the calls queue.
    let recording = start.elapsed();

    let (mut updates, mut announced) = (0, 0);
    while announced < total {
        updates += 1;
        let (previous, delta, current) = next_update(&mut events, updates).await;
        assert_eq!(
            previous, announced,
            "each update starts where the last ended"
        );
        announced = current;
        assert!(delta > 0);
    }
    assert_eq!(announced, total, "the deltas add up to what was recorded");
    // One update per one-second window the recording touched: four for the
    // 2.5 s spread, more only if the records themselves took longer.
    let windows = recording.as_secs_f64().ceil() as u64 + 1;
    assert!(
        (2..=windows).contains(&updates),
        "{updates} updates for records over {recording:?}"
    );
    let db = app.db().await;
    let closed: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM closed_at)::float8 FROM spend_windows
         WHERE virtual_key_id = $1 ORDER BY closed_at",
    )
    .bind(uuid(&id))
    .fetch_all(&db)
    .await
    .expect("windows");
    for pair in closed.windows(2) {
        assert!(
            pair[1] - pair[0] >= 1.0,
            "windows a second apart: {closed:?}"
        );
    }
    record(&mut app.producers().await, &id, 0.000001).await;
    let sentinel = next_update(&mut events, updates + 1).await;
    assert_eq!(
        sentinel,
        (total, 1, total + 1),
        "nothing else was announced"
    );
    let keys = app
        .keys()
        .await
        .list_virtual_keys(ListVirtualKeysRequest {})
        .await
        .expect("listed")
        .into_inner()
        .keys;
    assert_eq!(micros(keys[0].current_spend), total + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_aggregating_side_by_side_announce_each_record_once() {
    const RECORDS: u32 = 300;
    const SPREAD: Duration = Duration::from_millis(1500);
    let options = AppOptions {
        spend_interval: Duration::from_millis(20),
        unusual_factor: 1e9,
        ..AppOptions::default()
    };
    let first = spawn_app_with(options.clone()).await;
    let second = first.another_instance(options).await;
    let id = key_id(&create_key(&first, "Acme", None).await);
    let mut events = first.subscribe(SPEND.topic(uuid(&id))).await;
    let mut producers = [first.producers().await, second.producers().await];

    let start = Instant::now();
    join_all(
        producers
            .iter_mut()
            .zip(0u32..)
            .map(|(producers, instance)| {
                let id = id.clone();
                async move {
                    for n in (instance..RECORDS).step_by(2) {
                        tokio::time::sleep_until(start + SPREAD * n / RECORDS).await;
                        record(producers, &id, 0.01).await;
                    }
                }
            }),
    )
    .await;

    let (mut updates, mut announced) = (0, 0);
    while announced < micros(0.01) * i64::from(RECORDS) {
        updates += 1;
        let (previous, _, current) = next_update(&mut events, updates).await;
        assert_eq!(
            previous, announced,
            "each update starts where the last ended"
        );
        announced = current;
    }
    assert_eq!(announced, 3_000_000, "every record counted once");
    assert!(updates <= 3, "{updates} updates in 1.5 s");
}

#[tokio::test]
async fn each_budget_threshold_alerts_once_until_the_budget_is_set_again() {
    let app = spawn_app_with(quick()).await;
    let created = create_key(&app, "Acme", Some(10.0)).await;
    let id = key_id(&created);
    let mut events = app.subscribe(SPEND.topic(uuid(&id))).await;
    let mut producers = app.producers().await;

    record(&mut producers, &id, 4.0).await;
    let first = expect_kind!(events.expect(1).await, SpendUpdate);
    assert_eq!(first.virtual_key_id, id);
    assert_eq!(
        (first.previous_spend, first.delta, first.current_spend),
        (0.0, 4.0, 4.0)
    );
    record(&mut producers, &id, 1.0).await;
    assert_eq!(next_update(&mut events, 2).await.2, micros(5.0));
    let half = expect_kind!(events.expect(3).await, BudgetAlert);
    assert_eq!(half.virtual_key_id, id);
    assert_eq!(
        (half.threshold_percent, half.current_spend, half.budget),
        (50, 5.0, 10.0)
    );
    assert_eq!(
        half.message,
        "Spend of 5 has reached 50% of the budget of 10"
    );
    record(&mut producers, &id, 5.0).await;
    assert_eq!(next_update(&mut events, 4).await.2, micros(10.0));
    let thresholds = [
        expect_kind!(events.expect(5).await, BudgetAlert).threshold_percent,
        expect_kind!(events.expect(6).await, BudgetAlert).threshold_percent,
    ];
    assert_eq!(thresholds, [80, 100], "both crossed at once, ascending");
    record(&mut producers, &id, 1.0).await;
    assert_eq!(next_update(&mut events, 7).await.2, micros(11.0));

    app.keys()
        .await
        .set_budget(SetBudgetRequest {
            virtual_key_id: id.clone(),
            budget: Some(20.0),
        })
        .await
        .expect("budget raised");
    record(&mut producers, &id, 0.5).await;
    assert_eq!(next_update(&mut events, 8).await.2, micros(11.5));
    let rearmed = expect_kind!(events.expect(9).await, BudgetAlert);
    assert_eq!((rearmed.threshold_percent, rearmed.budget), (50, 20.0));
    record(&mut producers, &id, 4.5).await;
    assert_eq!(next_update(&mut events, 10).await.2, micros(16.0));
    let eighty = expect_kind!(events.expect(11).await, BudgetAlert);
    assert_eq!((eighty.threshold_percent, eighty.current_spend), (80, 16.0));
    let fired: Vec<i32> = sqlx::query_scalar(
        "SELECT threshold_percent FROM budget_alerts WHERE virtual_key_id = $1
         ORDER BY threshold_percent",
    )
    .bind(uuid(&id))
    .fetch_all(&app.db().await)
    .await
    .expect("alerts");
    assert_eq!(fired, vec![50, 80]);
}

#[tokio::test]
async fn spend_recorded_before_a_restart_is_announced_after_it() {
    let app = spawn_app_with(AppOptions {
        spend_interval: Duration::from_secs(3600),
        ..AppOptions::default()
    })
    .await;
    let id = key_id(&create_key(&app, "Acme", None).await);
    let mut events = app.subscribe(SPEND.topic(uuid(&id))).await;
    let mut producers = app.producers().await;
    for amount in [1.25, 2.5, 0.000001] {
        record(&mut producers, &id, amount).await;
    }
    let db = app.db().await;
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM spend_records WHERE virtual_key_id = $1 AND window_id IS NULL",
    )
    .bind(uuid(&id))
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(waiting, 3, "nothing aggregated before the restart");
    db.close().await;

    let app = app.restart(AppOptions::default()).await;

    assert_eq!(next_update(&mut events, 1).await, (0, 3_750_001, 3_750_001));
    let waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM spend_records WHERE window_id IS NULL")
            .fetch_one(&app.db().await)
            .await
            .expect("count");
    assert_eq!(waiting, 0);
}

#[tokio::test]
async fn a_window_far_above_the_recent_average_is_unusual_spending() {
    let app = spawn_app_with(AppOptions {
        unusual_factor: 3.0,
        ..quick()
    })
    .await;
    let id = key_id(&create_key(&app, "Acme", None).await);
    let mut events = app.subscribe(SPEND.topic(uuid(&id))).await;
    let mut producers = app.producers().await;

    for sequence in 1..=4 {
        record(&mut producers, &id, 1.0).await;
        next_update(&mut events, sequence).await;
    }
    record(&mut producers, &id, 3.5).await;
    next_update(&mut events, 5).await;
    let unusual = expect_kind!(events.expect(6).await, UnusualSpending);
    record(&mut producers, &id, 1.0).await;
    next_update(&mut events, 7).await;

    assert_eq!(unusual.virtual_key_id, id);
    assert_eq!((unusual.window_spend, unusual.average_spend), (3.5, 1.0));
    assert_eq!(
        unusual.message,
        "Spend of 3.5 in one window is more than 3 times the recent average of 1"
    );
}

#[tokio::test]
async fn spend_records_are_validated() {
    let app = spawn_app().await;
    let id = key_id(&create_key(&app, "Acme", None).await);
    let mut producers = app.producers().await;

    let mut refusals = Vec::new();
    for amount in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        refusals.push((
            producers.record_spend(spend(&id, amount)).await,
            "amount must be a number greater than 0",
        ));
    }
    refusals.push((
        producers.record_spend(spend(&id, 0.0000004)).await,
        "amount must be at least 0.000001",
    ));
    refusals.push((
        producers.record_spend(spend(&id, 2e9)).await,
        "amount must be at most 1000000000",
    ));
    refusals.push((
        producers.record_spend(spend("acme", 1.0)).await,
        "virtualKeyId is not a UUID",
    ));
    let unknown = producers
        .record_spend(spend(&uuid::Uuid::new_v4().to_string(), 1.0))
        .await
        .expect_err("no such key");

    for (outcome, message) in refusals {
        assert_refused(&outcome.expect_err(message), Code::InvalidArgument, message);
    }
    assert_refused(&unknown, Code::NotFound, "virtual key not found");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM spend_records")
        .fetch_one(&app.db().await)
        .await
        .expect("count");
    assert_eq!(stored, 0);
}
