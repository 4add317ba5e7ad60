//! No sticky sessions: three gateways on one bus, and every request of a long-polling or SSE
//! connection sent to the next gateway in turn, as a round-robin load balancer does. Each is
//! answered as if it had reached the gateway holding the connection.

use std::{net::SocketAddr, sync::atomic::AtomicUsize, sync::atomic::Ordering, time::Duration};

use pulse_gateway::protocol::Protocol;
use reqwest::{Response, StatusCode};

use crate::helpers::{TestSuite, User, HUB};
use crate::metrics::{scrape_until, Scrape};
use crate::raw::{negotiate_at, read_until, WsClient};

const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
const CREATE_LIST: &str =
    "{\"type\":1,\"invocationId\":\"0\",\"target\":\"createlist\",\"arguments\":[{\"name\":\"L\"}]}\u{1e}";

/// The suite's gateway and two more on the same bus and services.
async fn three_gateways(suite: &mut TestSuite) -> Vec<SocketAddr> {
    let mut gateways = vec![suite.gateway];
    for _ in 0..2 {
        gateways.push(suite.start_extra_gateway().await);
    }
    gateways
}

/// A client whose every request goes to the next gateway in turn.
struct RoundRobin {
    http: reqwest::Client,
    gateways: Vec<SocketAddr>,
    next: AtomicUsize,
    token: String,
    id: String,
}

impl RoundRobin {
    async fn negotiate(gateways: Vec<SocketAddr>, token: &str, extra_query: &str) -> Self {
        let negotiated = negotiate_at(gateways[0], token, extra_query).await;
        Self {
            http: reqwest::Client::new(),
            gateways,
            // Negotiate went to the first gateway; the next request goes to the second.
            next: AtomicUsize::new(1),
            token: token.to_owned(),
            id: negotiated["connectionToken"]
                .as_str()
                .expect("connectionToken")
                .to_owned(),
        }
    }

    /// `{HUB}{rest}` on the next gateway.
    fn url(&self, rest: &str) -> String {
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.gateways.len();
        format!("http://{}{HUB}{rest}", self.gateways[turn])
    }

    fn connection_url(&self) -> String {
        self.url(&format!("?id={}", self.id))
    }

    async fn poll(&self) -> Response {
        let url = self.connection_url();
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("poll")
    }

    async fn poll_text(&self) -> String {
        let response = self.poll().await;
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("body")
    }

    async fn post(&self, body: &'static str) -> StatusCode {
        let url = self.connection_url();
        let response = self.http.post(url).bearer_auth(&self.token).body(body);
        response.send().await.expect("post").status()
    }

    async fn delete(&self) -> StatusCode {
        let url = self.connection_url();
        let response = self.http.delete(url).bearer_auth(&self.token);
        response.send().await.expect("delete").status()
    }

    async fn event_stream(&self) -> Response {
        let url = format!("{}&access_token={}", self.connection_url(), self.token);
        self.http
            .get(url)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("event stream")
    }
}

#[tokio::test]
async fn long_polling_works_though_each_request_lands_on_another_gateway() {
    let mut suite = TestSuite::start().await;
    let gateways = three_gateways(&mut suite).await;
    let token = suite.token(&User::new("Ann"));
    // Negotiated on the first gateway; the first poll, on the second, starts it there.
    let lp = RoundRobin::negotiate(gateways, &token, "").await;
    assert_eq!(
        lp.poll_text().await,
        "",
        "the first poll is answered at once, empty"
    );
    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::OK);
    assert_eq!(lp.poll_text().await, "{}\u{1e}");
    assert_eq!(lp.post(CREATE_LIST).await, StatusCode::OK);
    let mut completion = lp.poll_text().await;
    if completion.is_empty() {
        // The poll timed out before the service answered: ask again.
        completion = lp.poll_text().await;
    }
    assert!(
        completion.starts_with("{\"type\":3,\"invocationId\":\"0\",\"result\":{"),
        "{completion}"
    );

    assert_eq!(lp.delete().await, StatusCode::ACCEPTED);
    let after = lp.poll().await;
    assert_eq!(
        after.status(),
        StatusCode::NOT_FOUND,
        "the connection is gone everywhere"
    );
    suite.stop().await;
}

#[tokio::test]
async fn a_handshake_posted_before_the_first_poll_reaches_the_connection_wherever_it_starts() {
    let mut suite = TestSuite::start().await;
    let gateways = three_gateways(&mut suite).await;
    let token = suite.token(&User::new("Ann"));
    let lp = RoundRobin::negotiate(gateways, &token, "").await;
    // Held by the negotiating gateway's neighbour's request for it, then handed over.
    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::OK);
    assert_eq!(lp.poll_text().await, "", "first poll");
    assert_eq!(lp.poll_text().await, "{}\u{1e}");
    suite.stop().await;
}

#[tokio::test]
async fn server_sent_events_take_sends_through_any_gateway() {
    let mut suite = TestSuite::start().await;
    let gateways = three_gateways(&mut suite).await;
    let token = suite.token(&User::new("Ann"));
    let sse = RoundRobin::negotiate(gateways.clone(), &token, "").await;
    let mut stream = sse.event_stream().await;
    assert_eq!(stream.status(), StatusCode::OK);
    read_until(&mut stream, ":\r\n").await;
    assert_eq!(sse.post(HANDSHAKE).await, StatusCode::OK);
    read_until(&mut stream, "data: {}\u{1e}").await;
    assert_eq!(sse.post(CREATE_LIST).await, StatusCode::OK);
    read_until(&mut stream, "\"invocationId\":\"0\",\"result\":{").await;
    for _ in 0..3 {
        // A second stream for the same connection, on each gateway in turn.
        assert_eq!(sse.event_stream().await.status(), StatusCode::CONFLICT);
    }

    // Sent over the bus: the stream's claim from the negotiating gateway, the two sends to
    // the holder, the second stream's claim on the third gateway (answered "started"); the
    // negotiating gateway remembered the move and asked nobody. Each counted where sent and
    // where served.
    let mut scrapes = Vec::new();
    for gateway in &gateways {
        scrapes.push(Scrape::of(&format!("http://{gateway}/metrics")).await);
    }
    let total = |prefix: &str| scrapes.iter().map(|scrape| scrape.sum(prefix)).sum::<u64>();
    let sent = |ask: &str, outcome: &str| {
        total(&format!(
            "pulse_gateway_forwarded_requests_total{{ask=\"{ask}\",outcome=\"{outcome}\"}}"
        ))
    };
    let served = |ask: &str| {
        total(&format!(
            "pulse_gateway_forwarded_requests_served_total{{ask=\"{ask}\"}}"
        ))
    };
    assert_eq!((sent("claim", "answered"), served("claim")), (2, 2));
    assert_eq!((sent("send", "answered"), served("send")), (2, 2));
    for outcome in ["no_responder", "failed"] {
        assert_eq!(
            sent("claim", outcome) + sent("send", outcome),
            0,
            "{outcome}"
        );
    }
    suite.stop().await;
}

#[tokio::test]
async fn a_connection_is_found_only_by_its_own_user_and_unknown_ids_are_404_everywhere() {
    let mut suite = TestSuite::start().await;
    let gateways = three_gateways(&mut suite).await;
    let ann = suite.token(&User::new("Ann"));
    let lp = RoundRobin::negotiate(gateways.clone(), &ann, "").await;
    assert_eq!(lp.poll_text().await, "");

    let mallory = suite.token(&User::new("Mallory"));
    let mut stolen = RoundRobin::negotiate(gateways.clone(), &mallory, "").await;
    stolen.id = lp.id.clone();
    for _ in 0..3 {
        assert_eq!(stolen.post(HANDSHAKE).await, StatusCode::NOT_FOUND);
        assert_eq!(stolen.poll().await.status(), StatusCode::NOT_FOUND);
    }
    let mut invented = RoundRobin::negotiate(gateways, &ann, "").await;
    for id in ["nope", "a.*", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        invented.id = id.to_owned();
        for _ in 0..3 {
            assert_eq!(
                invented.post(HANDSHAKE).await,
                StatusCode::NOT_FOUND,
                "{id}"
            );
            assert_eq!(
                invented.poll().await.status(),
                StatusCode::NOT_FOUND,
                "{id}"
            );
        }
    }
    // Ann's connection did not notice.
    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::OK);
    assert_eq!(lp.poll_text().await, "{}\u{1e}");
    suite.stop().await;
}

#[tokio::test]
async fn a_stateful_websocket_coming_back_to_another_gateway_is_refused_at_once() {
    let mut suite = TestSuite::start().await;
    let gateways = three_gateways(&mut suite).await;
    let token = suite.token(&User::new("Ann"));
    let stateful =
        RoundRobin::negotiate(gateways.clone(), &token, "&useStatefulReconnect=true").await;
    let mut ws = WsClient::open_at(gateways[1], &token, &stateful.id, Protocol::Json)
        .await
        .expect("a WebSocket on another gateway than negotiate's starts the connection there");
    ws.handshake(1).await;
    let started = tokio::time::Instant::now();
    let elsewhere = WsClient::open_at(gateways[2], &token, &stateful.id, Protocol::Json).await;
    let refused = elsewhere.err().expect("refused");
    assert!(refused.contains("404"), "{refused}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once, not after a timeout: {:?}",
        started.elapsed()
    );
    ws.close().await;
    suite.stop().await;
}

/// A long-polling client of a draining gateway takes its Close and ends with a DELETE that
/// reaches another gateway: the draining one answers it before it exits, so the client is not
/// left waiting for the forwarding timeout.
#[tokio::test]
async fn a_draining_gateway_answers_the_forwarded_delete_of_its_last_long_polling_client() {
    let mut suite = TestSuite::start().await;
    let gateways = three_gateways(&mut suite).await;
    let token = suite.token(&User::new("Ann"));
    // Negotiated on the second gateway; the first poll starts it on the suite's own gateway,
    // the one that drains.
    let order = vec![gateways[1], gateways[0], gateways[2]];
    let lp = RoundRobin::negotiate(order, &token, "").await;
    assert_eq!(lp.poll_text().await, "");
    assert_eq!(lp.post(HANDSHAKE).await, StatusCode::OK);
    assert_eq!(lp.poll_text().await, "{}\u{1e}", "through another gateway");

    suite.begin_gateway_shutdown();
    let polling = "pulse_gateway_connections{hub=\"shopping-list\",transport=\"LongPolling\"}";
    scrape_until(&suite, "the connection closed", |scrape| {
        scrape.count(polling) == 0
    })
    .await;
    let close = lp.poll_text().await;
    assert!(close.contains("\"allowReconnect\":true"), "{close}");
    let started = tokio::time::Instant::now();
    assert_eq!(lp.delete().await, StatusCode::ACCEPTED);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered before the gateway exited, not after a timeout: {:?}",
        started.elapsed()
    );
    suite.stop().await;
}
