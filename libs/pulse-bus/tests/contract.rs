//! The same behaviour is required of the JetStream bus and the in-memory bus.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use pulse_bus::{
    Bus, BusErrorKind, Deliveries, Namespace, Outgoing, ServiceName, StartAt, StreamReplicas,
};
use pulse_proto::lists::LIST;
use uuid::Uuid;

async fn nats_bus() -> Bus {
    let ns = Namespace::new(&pulse_testkit::unique_namespace()).expect("namespace");
    let bus = Bus::connect(&pulse_testkit::shared_nats_url(), ns)
        .await
        .expect("shared NATS is running");
    bus.ensure_stream(LIST.kind(), Duration::from_secs(600))
        .await
        .expect("stream");
    bus
}

fn memory_bus() -> Bus {
    Bus::memory(Namespace::new("mem").expect("namespace"))
}

async fn next_payload(deliveries: &mut Deliveries) -> Bytes {
    tokio::time::timeout(Duration::from_secs(10), deliveries.next())
        .await
        .expect("a delivery within 10 s")
        .expect("stream open")
        .expect("delivery ok")
        .payload
}

async fn assert_nothing_more(deliveries: &mut Deliveries) {
    let more = tokio::time::timeout(Duration::from_millis(300), deliveries.next()).await;
    assert!(more.is_err(), "unexpected delivery: {more:?}");
}

async fn delivers_in_order_once_per_message_id(bus: Bus) {
    let topic = LIST.topic(Uuid::new_v4());
    let other = LIST.topic(Uuid::new_v4());
    let mut sub = bus
        .subscribe(&topic, StartAt::New)
        .await
        .expect("subscribe");
    for (id, body) in [("a", "1"), ("b", "2"), ("a", "1"), ("c", "3")] {
        bus.publish(&topic, id, Bytes::from(body))
            .await
            .expect("publish");
    }
    bus.publish(&other, "x", Bytes::from("other"))
        .await
        .expect("publish");
    for expected in ["1", "2", "3"] {
        assert_eq!(next_payload(&mut sub).await, expected);
    }
    assert_nothing_more(&mut sub).await;
}

async fn publishes_many_at_once_in_order_once_per_message_id(bus: Bus) {
    let topics = [LIST.topic(Uuid::new_v4()), LIST.topic(Uuid::new_v4())];
    let mut subs = Vec::new();
    for topic in &topics {
        subs.push(bus.subscribe(topic, StartAt::New).await.expect("subscribe"));
    }
    let message = |topic: usize, id: &str, body: &'static str| Outgoing {
        topic: topics[topic],
        msg_id: id.to_owned(),
        payload: Bytes::from(body),
        after: None,
        traceparent: None,
    };
    let results = bus
        .publish_all(vec![
            message(0, "a", "1"),
            message(1, "b", "2"),
            message(0, "c", "3"),
            message(0, "a", "1"),
        ])
        .await;
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(next_payload(&mut subs[0]).await, "1");
    assert_eq!(next_payload(&mut subs[0]).await, "3");
    assert_eq!(next_payload(&mut subs[1]).await, "2");
    for sub in &mut subs {
        assert_nothing_more(sub).await;
    }
}

async fn stores_a_message_only_right_after_the_one_it_names(bus: Bus) {
    let topic = LIST.topic(Uuid::new_v4());
    let mut sub = bus
        .subscribe(&topic, StartAt::New)
        .await
        .expect("subscribe");
    let message = |id: &str, after: Option<&str>| Outgoing {
        topic,
        msg_id: id.to_owned(),
        payload: Bytes::from(id.to_owned()),
        after: after.map(str::to_owned),
        traceparent: None,
    };
    let kinds = |results: Vec<Result<(), pulse_bus::BusError>>| {
        results
            .into_iter()
            .map(|result| result.map_err(|error| error.kind()))
            .collect::<Vec<_>>()
    };
    let chained = bus
        .publish_all(vec![
            message("a", None),
            message("b", Some("a")),
            message("c", Some("b")),
        ])
        .await;
    assert_eq!(kinds(chained), vec![Ok(()), Ok(()), Ok(())]);
    // "x" was never stored, so neither is what follows it, though its own predecessor is.
    let broken = bus
        .publish_all(vec![message("y", Some("x")), message("z", Some("y"))])
        .await;
    assert_eq!(
        kinds(broken),
        vec![Err(BusErrorKind::OutOfTurn), Err(BusErrorKind::OutOfTurn)]
    );
    // A duplicate is acknowledged without becoming the last message again.
    bus.publish(&topic, "d", Bytes::from("d"))
        .await
        .expect("publish");
    let after_duplicate = bus
        .publish_all(vec![message("b", None), message("e", Some("b"))])
        .await;
    assert_eq!(
        kinds(after_duplicate),
        vec![Ok(()), Err(BusErrorKind::OutOfTurn)]
    );
    for expected in ["a", "b", "c", "d"] {
        assert_eq!(next_payload(&mut sub).await, expected);
    }
    assert_nothing_more(&mut sub).await;
}

async fn refuses_a_message_larger_than_the_broker_takes_and_goes_on(bus: Bus) {
    let topic = LIST.topic(Uuid::new_v4());
    let mut sub = bus
        .subscribe(&topic, StartAt::New)
        .await
        .expect("subscribe");
    let huge = Bytes::from(vec![b'x'; 2 << 20]);
    let refused = bus.publish(&topic, "huge", huge).await;
    assert_eq!(
        refused.map_err(|error| error.kind()),
        Err(BusErrorKind::TooLarge)
    );
    // Refused before it was sent: the connection and the subscription on it are untouched.
    bus.publish(&topic, "small", Bytes::from("small"))
        .await
        .expect("publish");
    assert_eq!(next_payload(&mut sub).await, "small");
    assert_nothing_more(&mut sub).await;
}

async fn replays_from_a_stream_sequence(bus: Bus) {
    let topic = LIST.topic(Uuid::new_v4());
    assert_eq!(bus.last_stream_sequence(&topic).await.expect("last"), None);
    let mut live = bus
        .subscribe(&topic, StartAt::New)
        .await
        .expect("subscribe");
    bus.publish(&topic, "1", Bytes::from("one"))
        .await
        .expect("publish");
    bus.publish(&topic, "2", Bytes::from("two"))
        .await
        .expect("publish");
    let first = tokio::time::timeout(Duration::from_secs(10), live.next())
        .await
        .expect("delivery")
        .expect("open")
        .expect("ok");
    let mut replay = bus
        .subscribe(&topic, StartAt::StreamSequence(first.stream_sequence))
        .await
        .expect("subscribe");
    let last = bus.last_stream_sequence(&topic).await.expect("last");
    assert!(last.is_some_and(|last| last > first.stream_sequence));
    assert_eq!(next_payload(&mut replay).await, "one");
    assert_eq!(next_payload(&mut replay).await, "two");
    bus.publish(&topic, "3", Bytes::from("three"))
        .await
        .expect("publish");
    assert_eq!(next_payload(&mut replay).await, "three");
}

async fn carries_the_trace_context_of_a_message_to_its_subscribers(bus: Bus) {
    let topic = LIST.topic(Uuid::new_v4());
    let mut sub = bus
        .subscribe(&topic, StartAt::New)
        .await
        .expect("subscribe");
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let message = |id: &str, traceparent: Option<&str>| Outgoing {
        topic,
        msg_id: id.to_owned(),
        payload: Bytes::from(id.to_owned()),
        after: None,
        traceparent: traceparent.map(str::to_owned),
    };
    let results = bus
        .publish_all(vec![
            message("traced", Some(traceparent)),
            message("plain", None),
        ])
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut received = Vec::new();
    for _ in 0..2 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .expect("a delivery within 10 s")
            .expect("stream open")
            .expect("delivery ok");
        received.push(delivery.traceparent);
    }
    assert_eq!(received, vec![Some(traceparent.to_owned()), None]);
}

async fn answers_requests_to_a_served_name_and_tells_when_nobody_serves_it(bus: Bus) {
    let name = ServiceName::new(&["conn", &Uuid::new_v4().simple().to_string()]).expect("name");
    let asked = bus
        .request(&name, Bytes::from("anyone?"), Duration::from_secs(5))
        .await;
    assert_eq!(
        asked.map_err(|e| e.kind()),
        Err(BusErrorKind::NoResponder),
        "nobody serves it yet"
    );

    let mut requests = bus.serve(&name).await.expect("serve");
    let server = tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let mut answer = b"re: ".to_vec();
            answer.extend_from_slice(&request.payload);
            request.respond(Bytes::from(answer)).await.expect("respond");
        }
    });
    for question in ["one", "two"] {
        let answer = bus
            .request(&name, Bytes::from(question), Duration::from_secs(5))
            .await
            .expect("answered");
        assert_eq!(answer, format!("re: {question}"));
    }

    server.abort();
    let _ = server.await;
    // Dropping the stream stops serving; NATS learns of the unsubscribe
    // asynchronously, so ask until it answers no-responder.
    pulse_testkit::wait_until(
        "no responder once the stream was dropped",
        Duration::from_secs(5),
        async || {
            let asked = bus
                .request(
                    &name,
                    Bytes::from("still there?"),
                    Duration::from_millis(500),
                )
                .await;
            matches!(asked.map_err(|e| e.kind()), Err(BusErrorKind::NoResponder))
        },
    )
    .await;
}

async fn refuses_a_request_larger_than_the_broker_takes(bus: Bus) {
    let name = ServiceName::new(&["big"]).expect("name");
    let too_large = Bytes::from(vec![0u8; bus.largest_request() + 1]);
    let asked = bus.request(&name, too_large, Duration::from_secs(1)).await;
    assert_eq!(asked.map_err(|e| e.kind()), Err(BusErrorKind::TooLarge));
}

#[tokio::test]
async fn nats_bus_answers_requests_to_a_served_name_and_tells_when_nobody_serves_it() {
    answers_requests_to_a_served_name_and_tells_when_nobody_serves_it(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_answers_requests_to_a_served_name_and_tells_when_nobody_serves_it() {
    answers_requests_to_a_served_name_and_tells_when_nobody_serves_it(memory_bus()).await;
}

#[tokio::test]
async fn nats_bus_refuses_a_request_larger_than_the_broker_takes() {
    refuses_a_request_larger_than_the_broker_takes(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_refuses_a_request_larger_than_the_broker_takes() {
    refuses_a_request_larger_than_the_broker_takes(memory_bus()).await;
}

#[tokio::test]
async fn nats_bus_carries_the_trace_context_of_a_message_to_its_subscribers() {
    carries_the_trace_context_of_a_message_to_its_subscribers(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_carries_the_trace_context_of_a_message_to_its_subscribers() {
    carries_the_trace_context_of_a_message_to_its_subscribers(memory_bus()).await;
}

#[tokio::test]
async fn nats_bus_delivers_in_order_once_per_message_id() {
    delivers_in_order_once_per_message_id(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_delivers_in_order_once_per_message_id() {
    delivers_in_order_once_per_message_id(memory_bus()).await;
}

#[tokio::test]
async fn nats_bus_publishes_many_at_once_in_order_once_per_message_id() {
    publishes_many_at_once_in_order_once_per_message_id(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_publishes_many_at_once_in_order_once_per_message_id() {
    publishes_many_at_once_in_order_once_per_message_id(memory_bus()).await;
}

#[tokio::test]
async fn nats_bus_stores_a_message_only_right_after_the_one_it_names() {
    stores_a_message_only_right_after_the_one_it_names(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_stores_a_message_only_right_after_the_one_it_names() {
    stores_a_message_only_right_after_the_one_it_names(memory_bus()).await;
}

#[tokio::test]
async fn nats_bus_refuses_a_message_larger_than_the_broker_takes_and_goes_on() {
    refuses_a_message_larger_than_the_broker_takes_and_goes_on(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_refuses_a_message_larger_than_the_broker_takes_and_goes_on() {
    refuses_a_message_larger_than_the_broker_takes_and_goes_on(memory_bus()).await;
}

#[tokio::test]
async fn nats_bus_replays_from_a_stream_sequence() {
    replays_from_a_stream_sequence(nats_bus().await).await;
}

#[tokio::test]
async fn memory_bus_replays_from_a_stream_sequence() {
    replays_from_a_stream_sequence(memory_bus()).await;
}

#[tokio::test]
async fn subscription_survives_a_broker_restart_without_gaps() {
    let mut server = pulse_testkit::NatsServer::start();
    let ns = Namespace::new("restart").expect("namespace");
    let bus = Bus::connect(&server.url(), ns).await.expect("connect");
    bus.ensure_stream(LIST.kind(), Duration::from_secs(600))
        .await
        .expect("stream");
    let topic = LIST.topic(Uuid::new_v4());
    let mut sub = bus
        .subscribe(&topic, StartAt::New)
        .await
        .expect("subscribe");
    bus.publish(&topic, "1", Bytes::from("before"))
        .await
        .expect("publish");
    assert_eq!(next_payload(&mut sub).await, "before");

    server.restart();
    pulse_testkit::wait_until(
        "a publish accepted after the restart",
        Duration::from_secs(30),
        async || bus.publish(&topic, "2", Bytes::from("after")).await.is_ok(),
    )
    .await;
    assert_eq!(next_payload(&mut sub).await, "after");
}

#[tokio::test]
async fn a_cluster_is_reached_through_any_of_its_listed_servers() {
    // The first URL names a port nothing listens on: the client goes on to
    // the next server of the list.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("nats://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let urls = format!("{closed_url}, {}", pulse_testkit::shared_nats_url());
    let ns = Namespace::new(&pulse_testkit::unique_namespace()).expect("namespace");
    let bus = tokio::time::timeout(Duration::from_secs(20), Bus::connect(&urls, ns))
        .await
        .expect("connected within 20 s")
        .expect("connect");
    bus.ensure_stream(LIST.kind(), Duration::from_secs(600))
        .await
        .expect("stream");
    let topic = LIST.topic(Uuid::new_v4());
    bus.publish(&topic, "1", Bytes::from("reached"))
        .await
        .expect("publish");
}

#[tokio::test]
async fn a_malformed_url_is_refused_before_any_connection() {
    let ns = Namespace::new(&pulse_testkit::unique_namespace()).expect("namespace");
    for urls in ["", " , ", "nats://127.0.0.1:4222,nats://[::1"] {
        let refused = Bus::connect(urls, ns.clone()).await.expect_err("refused");
        assert_eq!(refused.kind(), BusErrorKind::Connect, "{urls:?}");
    }
}

#[tokio::test]
async fn streams_take_the_replica_count_and_a_server_that_cannot_place_it_refuses() {
    let ns = Namespace::new(&pulse_testkit::unique_namespace()).expect("namespace");
    let single = Bus::connect(&pulse_testkit::shared_nats_url(), ns)
        .await
        .expect("connect");
    let three = StreamReplicas::new(3).expect("three copies");
    // One server cannot keep three copies: the stream is refused, not
    // created with one copy behind the operator's back.
    let refused = single
        .clone()
        .with_stream_replicas(three)
        .ensure_stream(LIST.kind(), Duration::from_secs(600))
        .await
        .expect_err("three copies on one server");
    assert_eq!(refused.kind(), BusErrorKind::Stream);
    single
        .with_stream_replicas(StreamReplicas::ONE)
        .ensure_stream(LIST.kind(), Duration::from_secs(600))
        .await
        .expect("one copy on one server");
}
