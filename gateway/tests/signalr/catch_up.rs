//! `GetMissedEvents` after a classic reconnect: a client back on a new connection (its network
//! dropped, its gateway restarted) gets exactly the events it missed, as a live observer got
//! them, page by page, or a reset when they are no longer retained; then live events.

use std::{collections::VecDeque, time::Duration};

use bytes::Bytes;
use prost::Message;
use pulse_gateway::protocol::{CompletionOutcome, HubMessage, Protocol};
use pulse_proto::lists::LIST;
use pulse_proto::{
    events::v1::{Event, EventEnvelope},
    gateway::v1::{subscription_message, SubscriptionMessage},
    lists::v1::{event::Kind, ItemDeleted},
};
use serde_json::{json, Value};
use tonic::Streaming;
use uuid::Uuid;

use crate::{
    create_list, error_text, follow_list,
    helpers::{RawClient, TestSuite, User},
    raw::{connection_token, invocation, WsClient},
};

const WAIT: Duration = Duration::from_secs(10);

/// A connection speaking either hub protocol (`RawClient` speaks JSON only), keeping the events
/// that arrive while it waits for a result.
struct Tab {
    ws: WsClient,
    events: VecDeque<(String, Value)>,
    next_id: u64,
}

impl Tab {
    /// A plain connection: negotiated without stateful reconnect.
    async fn open(suite: &TestSuite, user: &User, protocol: Protocol) -> Self {
        let token = suite.token(user);
        let id = connection_token(suite, &token, "").await;
        let mut ws = WsClient::open(suite, &token, &id, protocol)
            .await
            .expect("websocket");
        ws.handshake(1).await;
        Self {
            ws,
            events: VecDeque::new(),
            next_id: 0,
        }
    }

    async fn call(&mut self, target: &str, arguments: Vec<Value>) -> Value {
        let id = self.next_id.to_string();
        self.next_id += 1;
        self.ws.send(&[invocation(&id, target, arguments)]).await;
        loop {
            match self.ws.next_reply().await {
                HubMessage::Completion {
                    invocation_id,
                    outcome,
                } if invocation_id == id => {
                    return match outcome {
                        CompletionOutcome::Result(value) => value,
                        CompletionOutcome::Void => Value::Null,
                        CompletionOutcome::Error(error) => panic!("{target} failed: {error}"),
                    }
                }
                HubMessage::Invocation {
                    target, arguments, ..
                } => self.events.push_back((target, single(arguments))),
                _ => {}
            }
        }
    }

    /// The next event called `target`; other events before it are dropped.
    async fn event(&mut self, target: &str) -> Value {
        loop {
            let (name, payload) = match self.events.pop_front() {
                Some(event) => event,
                None => match self.ws.next_reply().await {
                    HubMessage::Invocation {
                        target, arguments, ..
                    } => (target, single(arguments)),
                    _ => continue,
                },
            };
            if name == target {
                return payload;
            }
        }
    }
}

/// An event's one argument.
fn single(arguments: Vec<Value>) -> Value {
    let [payload]: [Value; 1] = arguments.try_into().expect("one argument");
    payload
}

/// A list of Ann's shared with Bob as an editor.
async fn shared_list(ann: &mut RawClient, bob: &User) -> String {
    let list_id = create_list(ann, "Groceries").await;
    let share = json!([list_id, {"userId": bob.id.to_string(), "displayName": bob.name, "permission": "Editor"}]);
    ann.call("ShareList", share).await;
    list_id
}

/// Adds an item through `ann`, who has joined the list; returns her live `ItemAdded`.
async fn add_item(ann: &mut RawClient, list_id: &str, name: &str) -> Value {
    ann.call("AddItem", json!([list_id, {"name": name}])).await;
    let added = ann.event("ItemAdded").await;
    assert_eq!(added["item"]["name"], name);
    added
}

/// Waits for the next event on a gRPC subscription.
async fn published(witness: &mut Streaming<SubscriptionMessage>) {
    loop {
        let message = tokio::time::timeout(WAIT, witness.message())
            .await
            .expect("an event in time")
            .expect("stream ok")
            .expect("stream open");
        if matches!(message.kind, Some(subscription_message::Kind::Event(_))) {
            return;
        }
    }
}

fn sequence(value: &Value) -> u64 {
    value["sequence"].as_u64().expect("a sequence")
}

/// `caught_up` holds exactly `missed` (live `ItemAdded` payloads), in order, and nothing more.
fn assert_caught_up(caught_up: &Value, list_id: &str, missed: &[Value]) {
    assert_eq!(caught_up["group"], format!("list_{list_id}"));
    assert_eq!(
        (&caught_up["reset"], &caught_up["hasMore"]),
        (&json!(false), &json!(false)),
        "{caught_up}"
    );
    let events = caught_up["events"].as_array().expect("events");
    let payloads: Vec<&Value> = events.iter().map(|event| &event["payload"]).collect();
    assert_eq!(payloads, missed.iter().collect::<Vec<_>>(), "{caught_up}");
    for event in events {
        assert_eq!(event["event"], "ItemAdded");
        assert_eq!(event["sequence"], event["payload"]["sequence"]);
        assert!(event["occurredAt"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let last = missed.last().map(sequence).expect("something was missed");
    assert!(sequence(caught_up) >= last, "{caught_up}");
}

#[tokio::test]
async fn a_client_back_on_a_new_connection_gets_exactly_what_it_missed_then_live_events() {
    let suite = TestSuite::start().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let mut observer = suite.connect(&ann).await;
    let list_id = shared_list(&mut observer, &bob).await;
    observer.call("JoinList", json!([list_id])).await;
    for protocol in [Protocol::Json, Protocol::MessagePack] {
        let mut tab = Tab::open(&suite, &bob, protocol).await;
        tab.call("JoinList", vec![json!(list_id)]).await;
        let milk = add_item(&mut observer, &list_id, "Milk").await;
        assert_eq!(tab.event("ItemAdded").await, milk);
        tab.ws.drop_abruptly();

        let mut missed = Vec::new();
        for name in ["Bread", "Eggs"] {
            missed.push(add_item(&mut observer, &list_id, name).await);
        }
        let mut back = Tab::open(&suite, &bob, protocol).await;
        back.call("JoinList", vec![json!(list_id)]).await;
        let caught_up = back
            .call(
                "GetMissedEvents",
                vec![json!(list_id), json!(sequence(&milk))],
            )
            .await;
        assert_caught_up(&caught_up, &list_id, &missed);

        let jam = add_item(&mut observer, &list_id, "Jam").await;
        assert_eq!(back.event("ItemAdded").await, jam, "{protocol:?}");
        assert!(sequence(&jam) > sequence(&caught_up));
        back.ws.close().await;
    }
    suite.stop().await;
}

#[tokio::test]
async fn catching_up_after_a_gateway_restart_loses_nothing() {
    let mut suite = TestSuite::start().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let mut owner = suite.connect(&ann).await;
    let list_id = shared_list(&mut owner, &bob).await;
    let mut tab = suite.connect(&bob).await;
    tab.call("JoinList", json!([list_id])).await;
    owner
        .call("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    let seen = sequence(&tab.event("ItemAdded").await);

    suite.restart_gateway().await;
    let mut owner = suite.connect(&ann).await;
    let mut witness = follow_list(&suite, &ann, &list_id).await;
    let mut items = Vec::new();
    for name in ["Bread", "Eggs"] {
        items.push(
            owner
                .call("AddItem", json!([list_id, {"name": name}]))
                .await,
        );
    }
    // Committed is not yet published: Bob comes back once both are on the bus.
    for _ in &items {
        published(&mut witness).await;
    }
    let mut back = suite.connect(&bob).await;
    back.call("JoinList", json!([list_id])).await;
    let caught_up = back.call("GetMissedEvents", json!([list_id, seen])).await;
    let events = caught_up["events"].as_array().expect("events");
    let added: Vec<&Value> = events
        .iter()
        .map(|event| &event["payload"]["item"])
        .collect();
    assert_eq!(added, items.iter().collect::<Vec<_>>(), "{caught_up}");
    assert!(events.iter().all(|event| event["event"] == "ItemAdded"));
    let sequences: Vec<u64> = events.iter().map(sequence).collect();
    assert!(
        seen < sequences[0] && sequences[0] < sequences[1],
        "{sequences:?}"
    );
    assert_eq!(
        (&caught_up["reset"], &caught_up["hasMore"]),
        (&json!(false), &json!(false))
    );

    owner
        .call("AddItem", json!([list_id, {"name": "Jam"}]))
        .await;
    assert_eq!(back.event("ItemAdded").await["item"]["name"], "Jam");
    suite.stop().await;
}

#[tokio::test]
async fn a_position_no_longer_retained_or_never_reached_answers_reset() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut client = suite.connect(&ann).await;
    let list_id = create_list(&mut client, "Groceries").await;
    client.call("JoinList", json!([list_id])).await;
    let mut seen = 0;
    for name in ["Milk", "Bread", "Eggs"] {
        seen = sequence(&add_item(&mut client, &list_id, name).await);
    }
    suite.purge_list_history(&list_id).await;
    let jam = add_item(&mut client, &list_id, "Jam").await;

    let current = client.call("GetMissedEvents", json!([list_id, seen])).await;
    assert_caught_up(&current, &list_id, std::slice::from_ref(&jam));
    // Expired, ahead, and the largest number a client can send: the answer names where the
    // group really stands, never the position echoed.
    for position in [1, seen + 99, u64::MAX] {
        let reset = client
            .call("GetMissedEvents", json!([list_id, position]))
            .await;
        assert_eq!(
            reset,
            json!({
                "group": format!("list_{list_id}"),
                "events": [],
                "sequence": sequence(&jam),
                "reset": true,
                "hasMore": false,
            }),
            "{position}"
        );
    }
    // A client that drops live events at or below that `sequence` misses none.
    let tea = add_item(&mut client, &list_id, "Tea").await;
    assert_eq!(sequence(&tea), sequence(&jam) + 1);
    suite.stop().await;
}

#[tokio::test]
async fn other_peoples_lists_and_malformed_positions_are_refused() {
    let suite = TestSuite::start().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let mut owner = suite.connect(&ann).await;
    let list_id = create_list(&mut owner, "Private").await;
    let mut outsider = suite.connect(&bob).await;
    let unknown = Uuid::new_v4().to_string();
    for list in [&list_id, &unknown] {
        let denied = outsider.invoke("GetMissedEvents", json!([list, 0])).await;
        assert_eq!(
            error_text(&denied),
            "An unexpected error occurred invoking 'GetMissedEvents' on the server. HubException: Access denied"
        );
    }
    for position in [json!(-1), json!(1.5), json!("3"), Value::Null] {
        let refused = owner
            .invoke("GetMissedEvents", json!([list_id, position]))
            .await;
        assert_eq!(
            error_text(&refused),
            "Failed to invoke 'GetMissedEvents' due to an error on the server. InvalidDataException: afterSequence must be a non-negative integer",
            "{position}"
        );
    }
    let short = owner.invoke("GetMissedEvents", json!([list_id])).await;
    assert!(error_text(&short).ends_with("Invocation provides 1 argument(s) but target expects 2."));
    let not_an_id = owner.invoke("GetMissedEvents", json!(["nope", 0])).await;
    assert!(error_text(&not_an_id).ends_with("HubException: listId must be a UUID string"));
    suite.stop().await;
}

#[tokio::test]
async fn a_long_absence_is_caught_up_page_by_page() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut client = suite.connect(&ann).await;
    let list_id = create_list(&mut client, "Busy").await;
    // More than a page, published as the shopping-list service would.
    let topic = LIST.topic(list_id.parse().expect("uuid"));
    let published = 501;
    for sequence in 1..=published {
        let envelope = EventEnvelope {
            group: topic.group(),
            sequence,
            occurred_at: "2025-01-01T00:00:00.000Z".into(),
            except_user_id: None,
            event: Some(Event::from(Kind::ItemDeleted(ItemDeleted {
                event_type: "ItemDeleted".into(),
                list_id: list_id.clone(),
                item_id: Uuid::new_v4().to_string(),
                deleted_by: None,
                timestamp: "2025-01-01T00:00:00.000Z".into(),
            }))),
        };
        suite
            .bus()
            .publish(
                &topic,
                &Uuid::new_v4().to_string(),
                Bytes::from(envelope.encode_to_vec()),
            )
            .await
            .expect("publish");
    }

    let mut after = 0;
    let mut pages = Vec::new();
    loop {
        let page = client
            .call("GetMissedEvents", json!([list_id, after]))
            .await;
        let sequences: Vec<u64> = page["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(sequence)
            .collect();
        assert_eq!(
            sequences,
            (after + 1..=sequence(&page)).collect::<Vec<_>>(),
            "each page continues the previous one"
        );
        pages.push(sequences.len());
        after = sequence(&page);
        if page["hasMore"] == false {
            break;
        }
    }
    assert_eq!(pages, [500, 1], "at most 500 events per call");
    assert_eq!(after, published);
    suite.stop().await;
}
