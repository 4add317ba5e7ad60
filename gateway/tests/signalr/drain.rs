//! A gateway that is told to stop drains: it says it is not ready, turns new
//! connections away, and closes the ones it holds spread out, each with
//! `allowReconnect: true`, while it still answers their requests.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::helpers::{SuiteOptions, TestSuite, User, HUB};
use crate::metrics::scrape_until;
use crate::transports::long_polling;

/// Enough that their closes, a millisecond apart, take a fifth of a second:
/// the window in which the test asks the draining gateway for readiness and
/// a new connection.
const CLIENTS: usize = 200;

#[tokio::test]
async fn a_stopping_gateway_turns_new_clients_away_and_closes_its_own_spread_out() {
    let suite = TestSuite::start_with_options(SuiteOptions {
        gateway_args: vec!["--drain-period".into(), "10s".into()],
        ..SuiteOptions::default()
    })
    .await;
    let user = User::new("Ann");
    let token = suite.token(&user);
    let http = reqwest::Client::new();
    let ready = || async { http.get(suite.http("/health/ready")).send().await };
    assert_eq!(ready().await.expect("ready").status(), StatusCode::OK);
    let mut clients = Vec::with_capacity(CLIENTS);
    for index in 0..CLIENTS {
        // Under the per-user limit: a user each.
        clients.push(suite.connect(&User::new(&format!("client {index}"))).await);
    }

    let stopped_at = Instant::now();
    suite.begin_gateway_shutdown();
    let closes = join_all(clients.iter_mut().map(|client| async {
        let close = client.closed().await;
        (close, Instant::now())
    }));
    let refusals = async {
        let ready = ready().await.expect("readiness answered while draining");
        let negotiate = http
            .post(suite.http(&format!("{HUB}/negotiate?negotiateVersion=1")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("negotiate answered while draining");
        (ready.status(), negotiate.status())
    };
    let (closes, (ready, negotiate)) = tokio::join!(closes, refusals);

    assert_eq!(
        ready,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready once draining"
    );
    assert_eq!(
        negotiate,
        StatusCode::SERVICE_UNAVAILABLE,
        "no new connection"
    );
    for (close, _) in &closes {
        let close = close
            .as_ref()
            .expect("a Close message before the socket ends");
        assert_eq!(close["allowReconnect"], true, "{close}");
    }
    // The connections close a millisecond apart (sooner than 10 s ÷ 200):
    // the last can close no sooner than 199 ms after the drain began.
    let last = closes.iter().map(|(_, at)| *at).max().expect("closes");
    assert!(
        last - stopped_at >= Duration::from_millis(199),
        "all closed within {:?}",
        last - stopped_at
    );
    suite.stop().await;
}

/// A long-polling connection closed by the drain keeps its Close for the client's next poll:
/// the gateway waits for that poll (within its grace) before it stops answering.
#[tokio::test]
async fn a_long_polling_client_takes_its_close_from_a_draining_gateway() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let lp = long_polling(&suite, &token).await;
    suite.begin_gateway_shutdown();
    // The connection closed at its turn, with no poll waiting for its Close.
    let polling = "pulse_gateway_connections{hub=\"shopping-list\",transport=\"LongPolling\"}";
    scrape_until(&suite, "the connection closed", |scrape| {
        scrape.count(polling) == 0
    })
    .await;

    let last = lp.poll().await;
    assert_eq!(last.status(), StatusCode::OK);
    let close = last.text().await.expect("body");
    assert!(
        close.starts_with("{\"type\":7,") && close.contains("\"allowReconnect\":true"),
        "{close}"
    );
    assert_eq!(lp.delete().await, StatusCode::ACCEPTED);
    suite.stop().await;
}
