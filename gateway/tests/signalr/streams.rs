//! The gRPC subscription API: same events and authorization as the hubs,
//! resume without gaps or duplicates, explicit resets, bounded buffering.

use std::time::Duration;

use futures::future::join_all;
use tokio::time::Instant;

use pulse_proto::{
    gateway::v1::{
        follow::Target, subscription_message::Kind, subscriptions_client::SubscriptionsClient,
        EventDelivery, Follow, SubscribeRequest, SubscriptionMessage,
    },
    lists::v1::{shopping_lists_client::ShoppingListsClient, AddItemRequest, NewItem},
};
use serde_json::{json, Value};
use tonic::{Code, Streaming};

use crate::helpers::{SuiteOptions, TestSuite, User};

const WAIT: Duration = Duration::from_secs(10);

fn bearer<T>(suite: &TestSuite, user: &User, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {}", suite.token(user));
    request
        .metadata_mut()
        .insert("authorization", value.parse().expect("header"));
    request
}

fn follow(target: Target, after: Option<u64>) -> SubscribeRequest {
    SubscribeRequest {
        follows: vec![Follow {
            target: Some(target),
            after_sequence: after,
        }],
    }
}

fn follow_list(list_id: &str, after: Option<u64>) -> SubscribeRequest {
    follow(Target::ListId(list_id.to_owned()), after)
}

async fn subscribe(
    suite: &TestSuite,
    user: &User,
    request: SubscribeRequest,
) -> Result<Streaming<SubscriptionMessage>, tonic::Status> {
    let mut client = SubscriptionsClient::connect(format!("http://{}", suite.gateway_grpc))
        .await
        .expect("connect");
    client
        .subscribe(bearer(suite, user, request))
        .await
        .map(tonic::Response::into_inner)
}

/// The next message that is not a heartbeat.
async fn next(stream: &mut Streaming<SubscriptionMessage>) -> Result<Kind, tonic::Status> {
    loop {
        let message = tokio::time::timeout(WAIT, stream.message())
            .await
            .expect("a message in time")?
            .expect("stream open");
        match message.kind.expect("a kind") {
            Kind::Heartbeat(_) => continue,
            kind => return Ok(kind),
        }
    }
}

async fn next_event(stream: &mut Streaming<SubscriptionMessage>) -> EventDelivery {
    match next(stream).await.expect("no error") {
        Kind::Event(event) => *event,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn payload(event: &EventDelivery) -> Value {
    let payload = event
        .event
        .as_ref()
        .filter(|e| e.kind().is_some())
        .expect("payload");
    serde_json::to_value(payload).expect("json")
}

fn item_name(event: &EventDelivery) -> String {
    payload(event)["item"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn add_item(suite: &TestSuite, user: &User, list_id: &str, name: &str) {
    let mut lists = ShoppingListsClient::connect(format!("http://{}", suite.lists))
        .await
        .expect("connect");
    let request = AddItemRequest {
        list_id: list_id.to_owned(),
        item: Some(NewItem {
            name: name.into(),
            ..Default::default()
        }),
    };
    lists
        .add_item(bearer(suite, user, request))
        .await
        .expect("AddItem");
}

#[tokio::test]
async fn a_grpc_subscriber_sees_what_signalr_clients_see_and_resumes_exactly_where_it_left() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Groceries"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    hub.call("JoinList", json!([list_id])).await;

    let mut stream = subscribe(&suite, &ann, follow_list(&list_id, None))
        .await
        .expect("subscribe");
    hub.call("AddItem", json!([list_id, {"name": "Milk", "quantity": 2}]))
        .await;
    let signalr = hub.event("ItemAdded").await;
    let grpc = next_event(&mut stream).await;
    assert_eq!(grpc.event_name, "ItemAdded");
    assert_eq!(grpc.group, format!("list_{list_id}"));
    assert_eq!(Some(grpc.sequence), signalr["sequence"].as_u64());
    let mut without_sequence = signalr.clone();
    without_sequence
        .as_object_mut()
        .expect("object")
        .remove("sequence");
    assert_eq!(
        payload(&grpc),
        without_sequence,
        "one definition, two encodings"
    );
    drop(stream);

    for name in ["Bread", "Eggs"] {
        add_item(&suite, &ann, &list_id, name).await;
    }
    let mut resumed = subscribe(&suite, &ann, follow_list(&list_id, Some(grpc.sequence)))
        .await
        .expect("resume");
    let bread = next_event(&mut resumed).await;
    let eggs = next_event(&mut resumed).await;
    assert_eq!(
        (item_name(&bread), item_name(&eggs)),
        ("Bread".into(), "Eggs".into())
    );
    assert_eq!(
        (bread.sequence, eggs.sequence),
        (grpc.sequence + 1, grpc.sequence + 2)
    );
    add_item(&suite, &ann, &list_id, "Jam").await;
    let jam = next_event(&mut resumed).await;
    assert_eq!(
        (item_name(&jam), jam.sequence),
        ("Jam".into(), grpc.sequence + 3)
    );
    suite.stop().await;
}

#[tokio::test]
async fn resume_after_a_gateway_restart_loses_nothing() {
    let mut suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Groceries"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let mut stream = subscribe(&suite, &ann, follow_list(&list_id, None))
        .await
        .expect("subscribe");
    add_item(&suite, &ann, &list_id, "Milk").await;
    let seen = next_event(&mut stream).await.sequence;

    suite.restart_gateway().await;
    let ended = tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("the old stream ends with its gateway")
        .expect_err("it ends with a status");
    assert_eq!(ended.code(), tonic::Code::Unavailable, "{ended:?}");
    assert!(
        ended
            .message()
            .ends_with(&format!("(list_{list_id}={seen})")),
        "the status names the position delivered: {ended:?}"
    );
    for name in ["Bread", "Eggs"] {
        add_item(&suite, &ann, &list_id, name).await;
    }
    let mut resumed = subscribe(&suite, &ann, follow_list(&list_id, Some(seen)))
        .await
        .expect("resume on the new gateway");
    assert_eq!(item_name(&next_event(&mut resumed).await), "Bread");
    assert_eq!(item_name(&next_event(&mut resumed).await), "Eggs");
    suite.stop().await;
}

#[tokio::test]
async fn a_position_no_longer_retained_gets_an_explicit_reset() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Groceries"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let mut live = subscribe(&suite, &ann, follow_list(&list_id, None))
        .await
        .expect("subscribe");
    for name in ["Milk", "Bread", "Eggs"] {
        add_item(&suite, &ann, &list_id, name).await;
    }
    for _ in 0..3 {
        next_event(&mut live).await;
    }
    suite.purge_list_history(&list_id).await;
    add_item(&suite, &ann, &list_id, "Jam").await;

    let mut stream = subscribe(&suite, &ann, follow_list(&list_id, Some(1)))
        .await
        .expect("subscribe");
    match next(&mut stream).await.expect("message") {
        Kind::Reset(reset) => {
            assert_eq!(reset.group, format!("list_{list_id}"));
            assert_eq!(reset.requested_after, 1);
        }
        other => panic!("expected a reset, got {other:?}"),
    }
    let jam = next_event(&mut stream).await;
    assert_eq!((item_name(&jam), jam.sequence), ("Jam".into(), 4));

    let mut current = subscribe(&suite, &ann, follow_list(&list_id, Some(3)))
        .await
        .expect("subscribe");
    assert_eq!(
        next_event(&mut current).await.sequence,
        4,
        "no reset when nothing is missing"
    );

    let mut ahead = subscribe(&suite, &ann, follow_list(&list_id, Some(99)))
        .await
        .expect("subscribe");
    assert!(matches!(next(&mut ahead).await, Ok(Kind::Reset(_))));
    suite.stop().await;
}

#[tokio::test]
async fn wrong_credentials_and_other_peoples_lists_are_refused() {
    let suite = TestSuite::start().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Private"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();

    let mut client = SubscriptionsClient::connect(format!("http://{}", suite.gateway_grpc))
        .await
        .expect("connect");
    let anonymous = client
        .subscribe(tonic::Request::new(follow_list(&list_id, None)))
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let mut forged = tonic::Request::new(follow_list(&list_id, None));
    forged.metadata_mut().insert(
        "authorization",
        "Bearer not.a.token".parse().expect("header"),
    );
    assert_eq!(
        client.subscribe(forged).await.expect_err("forged").code(),
        Code::Unauthenticated
    );
    let denied = subscribe(&suite, &bob, follow_list(&list_id, None))
        .await
        .expect_err("not a collaborator");
    assert_eq!(
        (denied.code(), denied.message()),
        (Code::PermissionDenied, "Access denied")
    );
    let invalid = subscribe(&suite, &ann, follow_list("nope", None))
        .await
        .expect_err("bad id");
    assert_eq!(invalid.code(), Code::InvalidArgument);
    suite.stop().await;
}

fn follow_group(group: String) -> SubscribeRequest {
    follow(Target::Group(group), None)
}

#[tokio::test]
async fn a_group_followed_by_its_name_is_authorized_and_delivered_like_its_typed_follow() {
    let suite = TestSuite::start().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "By name"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();

    let denied = subscribe(&suite, &bob, follow_group(format!("list_{list_id}")))
        .await
        .expect_err("not a collaborator");
    assert_eq!(
        (denied.code(), denied.message()),
        (Code::PermissionDenied, "Access denied")
    );
    let others = subscribe(&suite, &bob, follow_group(format!("chat_{}", ann.id)))
        .await
        .expect_err("someone else's chat");
    assert_eq!(others.code(), Code::PermissionDenied);
    let invalid = subscribe(&suite, &ann, follow_group("list_nope".into()))
        .await
        .expect_err("no group");
    assert_eq!(invalid.code(), Code::InvalidArgument);

    let mut stream = subscribe(&suite, &ann, follow_group(format!("list_{list_id}")))
        .await
        .expect("ann's own list");
    add_item(&suite, &ann, &list_id, "Milk").await;
    let event = next_event(&mut stream).await;
    assert_eq!(
        (event.group.as_str(), event.sequence),
        (&*format!("list_{list_id}"), 1)
    );
    assert_eq!(item_name(&event), "Milk");
    suite.stop().await;
}

#[tokio::test]
async fn a_removed_collaborators_stream_ends_with_permission_denied() {
    let suite = TestSuite::start().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Shared"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let share = json!([list_id, {"userId": bob.id.to_string(), "displayName": "Bob", "permission": "Editor"}]);
    hub.call("ShareList", share).await;
    let mut stream = subscribe(&suite, &bob, follow_list(&list_id, None))
        .await
        .expect("subscribe");
    hub.call("RemoveCollaborator", json!([list_id, bob.id.to_string()]))
        .await;
    assert_eq!(
        next_event(&mut stream).await.event_name,
        "CollaboratorRemoved"
    );
    let ended = next(&mut stream).await.expect_err("stream ends");
    assert_eq!(ended.code(), Code::PermissionDenied);
    suite.stop().await;
}

#[tokio::test]
async fn an_idle_stream_gets_heartbeats() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Quiet"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let mut stream = subscribe(&suite, &ann, follow_list(&list_id, None))
        .await
        .expect("subscribe");
    let message = tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("in time")
        .expect("ok")
        .expect("open");
    assert!(matches!(message.kind, Some(Kind::Heartbeat(_))));
    suite.stop().await;
}

/// Measures how much a subscriber that never reads makes the gateway hold:
/// the stream is ended once its queue budget (64 KiB in tests) is used, so
/// what the client finds buffered when it finally reads is bounded by that
/// budget plus the transport's windows, whatever was published — and it is a
/// gap-free prefix of what was published, then RESOURCE_EXHAUSTED.
#[tokio::test]
async fn a_subscriber_that_never_reads_is_cut_off_with_bounded_buffering() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Firehose"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    // A client with small HTTP/2 windows, so the transport cannot hide the
    // backlog: what does not fit waits in the gateway, up to its budget.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", suite.gateway_grpc))
        .expect("endpoint")
        .initial_stream_window_size(Some(65_535))
        .initial_connection_window_size(Some(65_535))
        .connect()
        .await
        .expect("connect");
    let mut stream = SubscriptionsClient::new(channel)
        .subscribe(bearer(&suite, &ann, follow_list(&list_id, None)))
        .await
        .expect("subscribe")
        .into_inner();
    let notes = "n".repeat(1000);
    let published = 1_000;
    let mut lists = ShoppingListsClient::connect(format!("http://{}", suite.lists))
        .await
        .expect("connect");
    for i in 0..published {
        let request = AddItemRequest {
            list_id: list_id.clone(),
            item: Some(NewItem {
                name: format!("Item {i}"),
                notes: Some(notes.clone()),
                ..Default::default()
            }),
        };
        lists
            .add_item(bearer(&suite, &ann, request))
            .await
            .expect("AddItem");
    }
    let mut received = 0usize;
    let mut received_bytes = 0usize;
    let mut sequences = Vec::new();
    let ended = loop {
        match tokio::time::timeout(WAIT, stream.message())
            .await
            .expect("in time")
        {
            Ok(Some(message)) => {
                let size = prost::Message::encoded_len(&message);
                if let Some(Kind::Event(event)) = message.kind {
                    received += 1;
                    received_bytes += size;
                    sequences.push(event.sequence);
                }
            }
            Ok(None) => panic!("stream ended without a status"),
            Err(status) => break status,
        }
    };
    println!(
        "slow subscriber: {published} events published (~{} KiB), {received} buffered for it (~{} KiB) before the cut",
        published * 1100 / 1024,
        received_bytes / 1024
    );
    assert_eq!(ended.code(), Code::ResourceExhausted);
    // A gap-free prefix: every event from the first published, none skipped, and the status
    // names the last one delivered, so resuming from it loses nothing.
    assert_eq!(
        sequences,
        (1..=received as u64).collect::<Vec<_>>(),
        "the events before the cut follow one another"
    );
    assert!(
        ended
            .message()
            .contains(&format!("list_{list_id}={received})")),
        "{}",
        ended.message()
    );
    assert!(received < published, "the gateway stopped buffering");
    assert!(
        received_bytes < 512 * 1024,
        "buffered {received_bytes} bytes for a client that never read"
    );
    suite.stop().await;
}

/// A position ahead of the group (a client's bookkeeping gone wrong, a stream recreated, the
/// largest number there is) gets a reset naming where the group really stands, and the stream
/// goes on live from there instead of dropping every later event as already seen.
#[tokio::test]
async fn a_position_ahead_of_the_group_resets_to_its_real_position_and_continues_live() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Groceries"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    // Sees each event published before the next step relies on it.
    let mut witness = subscribe(&suite, &ann, follow_list(&list_id, None))
        .await
        .expect("subscribe");
    let mut newest = 0;
    for name in ["Milk", "Bread"] {
        add_item(&suite, &ann, &list_id, name).await;
        newest = next_event(&mut witness).await.sequence;
    }
    for (position, name) in [(1000, "Eggs"), (u64::MAX, "Jam")] {
        let mut ahead = subscribe(&suite, &ann, follow_list(&list_id, Some(position)))
            .await
            .expect("subscribe");
        match next(&mut ahead).await.expect("a reset") {
            Kind::Reset(reset) => assert_eq!(
                (reset.group, reset.requested_after, reset.sequence),
                (format!("list_{list_id}"), position, newest)
            ),
            other => panic!("expected a reset, got {other:?}"),
        }
        add_item(&suite, &ann, &list_id, name).await;
        let live = next_event(&mut ahead).await;
        assert_eq!((item_name(&live), live.sequence), (name.into(), newest + 1));
        newest = next_event(&mut witness).await.sequence;
    }
    suite.stop().await;
}

/// Each group once per stream, and a bounded number of them: a request naming one twice (which
/// would deliver its events twice, going backwards) or too many is refused as a whole.
#[tokio::test]
async fn a_group_followed_twice_or_too_many_follows_are_refused() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Groceries"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let follow = |after| Follow {
        target: Some(Target::ListId(list_id.clone())),
        after_sequence: after,
    };
    let twice = SubscribeRequest {
        follows: vec![follow(Some(10)), follow(Some(1))],
    };
    let refused = subscribe(&suite, &ann, twice)
        .await
        .expect_err("a duplicate follow");
    assert_eq!(
        (refused.code(), refused.message()),
        (
            Code::InvalidArgument,
            format!("list_{list_id} is followed more than once").as_str()
        )
    );
    // Over the cap (100 by default), whatever the follows are.
    let many = SubscribeRequest {
        follows: (0..101)
            .map(|_| Follow {
                target: Some(Target::ListId(uuid::Uuid::new_v4().to_string())),
                after_sequence: None,
            })
            .collect(),
    };
    let refused = subscribe(&suite, &ann, many)
        .await
        .expect_err("too many follows");
    assert_eq!(
        (refused.code(), refused.message()),
        (
            Code::InvalidArgument,
            "at most 100 follows per subscription"
        )
    );
    assert_eq!(
        suite.node_stats().groups,
        0,
        "a refused request joins nothing"
    );
    suite.stop().await;
}

/// A stream lives no longer than its credential, as a hub connection does.
#[tokio::test]
async fn a_stream_ends_unauthenticated_when_its_token_expires() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Groceries"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let token = suite
        .validator
        .mint(&pulse_auth::TokenRequest {
            sub: ann.id,
            name: ann.name.clone(),
            roles: vec![],
            exp: chrono::Utc::now().timestamp() + 2,
        })
        .expect("mint");
    let mut request = tonic::Request::new(follow_list(&list_id, None));
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let mut stream = SubscriptionsClient::connect(format!("http://{}", suite.gateway_grpc))
        .await
        .expect("connect")
        .subscribe(request)
        .await
        .expect("subscribe")
        .into_inner();
    // Heartbeats keep coming on a stream that outlives its token: bound the wait.
    let ended = tokio::time::timeout(WAIT, next(&mut stream))
        .await
        .expect("the stream ends in time")
        .expect_err("the stream ends with a status");
    assert_eq!(
        (ended.code(), ended.message()),
        (Code::Unauthenticated, "Authentication expired.")
    );
    suite.stop().await;
}

/// Issue 14 item 4: a draining gateway ends its gRPC streams as it closes SignalR connections,
/// spread over the drain period (a millisecond apart here), each with UNAVAILABLE naming the
/// position it delivered, so their clients do not all resubscribe elsewhere at once.
#[tokio::test]
async fn a_draining_gateway_ends_its_streams_spread_out_naming_their_positions() {
    const STREAMS: usize = 100;
    let suite = TestSuite::start_with_options(SuiteOptions {
        gateway_args: vec!["--drain-period".into(), "10s".into()],
        ..SuiteOptions::default()
    })
    .await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list = hub.call("CreateList", json!([{"name": "Groceries"}])).await;
    let list_id = list["id"].as_str().expect("id").to_owned();
    let mut streams = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        let stream = subscribe(&suite, &ann, follow_list(&list_id, None)).await;
        streams.push(stream.expect("subscribe"));
    }
    add_item(&suite, &ann, &list_id, "Milk").await;
    let mut seen = 0;
    for stream in &mut streams {
        seen = next_event(stream).await.sequence;
    }

    let stopped_at = Instant::now();
    suite.begin_gateway_shutdown();
    let ends = join_all(streams.iter_mut().map(|stream| async {
        let status = loop {
            match tokio::time::timeout(WAIT, stream.message()).await {
                Ok(Ok(Some(_heartbeat))) => continue,
                Ok(Ok(None)) => panic!("the stream ended without a status"),
                Ok(Err(status)) => break status,
                Err(_) => panic!("the stream did not end in time"),
            }
        };
        (status, Instant::now())
    }))
    .await;
    for (status, _) in &ends {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(
            status
                .message()
                .ends_with(&format!("(list_{list_id}={seen})")),
            "names the position delivered: {status:?}"
        );
    }
    // 101 turns (the streams and the hub connection), a millisecond apart.
    let last = ends.iter().map(|(_, at)| *at).max().expect("ends");
    assert!(
        last - stopped_at >= Duration::from_millis(STREAMS as u64 - 1),
        "all ended within {:?}",
        last - stopped_at
    );
    suite.stop().await;
}
