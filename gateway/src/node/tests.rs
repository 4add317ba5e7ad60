use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use prost::Message;
use pulse_bus::{Bus, Namespace, Topic};
use pulse_proto::lists::LIST;
use pulse_proto::{
    events::v1::{Event, EventEnvelope},
    lists::v1::{event::Kind, CollaboratorRemoved, ItemDeleted, UserJoined},
    EventName,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::*;

/// The in-memory bus never ends a subscription: nothing here waits this long.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);

/// Encodes as `<name>:<sequence>` and counts how often it runs.
#[derive(Default)]
struct CountingEncoder {
    calls: AtomicUsize,
}

impl EventEncoder for CountingEncoder {
    fn key(&self) -> &'static str {
        "test"
    }

    fn encode(&self, event: EncodedEvent<'_>) -> Option<Frame> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let name = event.payload.name()?;
        Some(Frame::text(Bytes::from(format!(
            "{name}:{}",
            event.envelope.sequence
        ))))
    }
}

struct Client {
    member: Member,
    frames: OutboundReceiver,
}

fn client(user_id: Uuid, encoder: &Arc<CountingEncoder>) -> Client {
    let (outbound, frames) = outbound(1 << 20);
    Client {
        member: Member::new(
            Arc::from(Uuid::new_v4().to_string()),
            user_id,
            encoder.clone(),
            outbound,
        ),
        frames,
    }
}

impl Client {
    async fn next(&mut self) -> String {
        let frame = tokio::time::timeout(Duration::from_secs(5), self.frames.recv())
            .await
            .expect("a frame within 5 s")
            .expect("queue open");
        assert!(frame.is_text(), "test encoder writes text");
        String::from_utf8(frame.bytes().to_vec()).expect("text is UTF-8")
    }

    async fn nothing_more(&mut self) {
        let more = tokio::time::timeout(Duration::from_millis(200), self.frames.recv()).await;
        assert!(more.is_err(), "unexpected frame {more:?}");
    }
}

fn bus() -> Bus {
    Bus::memory(Namespace::new("node").expect("namespace"))
}

async fn publish(bus: &Bus, topic: Topic, sequence: u64, kind: Kind, except: Option<Uuid>) {
    let envelope = EventEnvelope {
        group: topic.group(),
        sequence,
        occurred_at: String::new(),
        except_user_id: except.map(|u| u.to_string()),
        event: Some(Event::from(kind)),
    };
    // A fresh message id each time: duplicates must be caught by sequence.
    bus.publish(
        &topic,
        &Uuid::new_v4().to_string(),
        Bytes::from(envelope.encode_to_vec()),
    )
    .await
    .expect("publish");
}

fn deleted() -> Kind {
    Kind::ItemDeleted(ItemDeleted::default())
}

#[tokio::test]
async fn members_get_each_event_of_their_group_once_in_order() {
    let bus = bus();
    let node = Node::new(bus.clone(), CancellationToken::new(), RESUBSCRIBE_DELAY);
    let encoder = Arc::new(CountingEncoder::default());
    let topic = LIST.topic(Uuid::new_v4());
    let other = LIST.topic(Uuid::new_v4());
    let mut ann = client(Uuid::new_v4(), &encoder);
    let mut bob = client(Uuid::new_v4(), &encoder);
    node.join(topic, ann.member.clone()).await.expect("join");
    node.join(topic, bob.member.clone()).await.expect("join");

    publish(&bus, topic, 1, deleted(), None).await;
    publish(&bus, topic, 2, deleted(), None).await;
    publish(&bus, topic, 2, deleted(), None).await; // re-published duplicate
    publish(&bus, other, 1, deleted(), None).await; // another group
    publish(&bus, topic, 3, deleted(), None).await;

    for client in [&mut ann, &mut bob] {
        for sequence in 1..=3 {
            assert_eq!(client.next().await, format!("ItemDeleted:{sequence}"));
        }
        client.nothing_more().await;
    }
    assert_eq!(
        encoder.calls.load(Ordering::SeqCst),
        3,
        "each event is encoded once, whatever the number of members"
    );
}

#[tokio::test]
async fn events_for_the_others_skip_every_connection_of_that_user() {
    let bus = bus();
    let node = Node::new(bus.clone(), CancellationToken::new(), RESUBSCRIBE_DELAY);
    let encoder = Arc::new(CountingEncoder::default());
    let topic = LIST.topic(Uuid::new_v4());
    let ann_id = Uuid::new_v4();
    let mut ann_tab1 = client(ann_id, &encoder);
    let mut ann_tab2 = client(ann_id, &encoder);
    let mut bob = client(Uuid::new_v4(), &encoder);
    for c in [&ann_tab1, &ann_tab2, &bob] {
        node.join(topic, c.member.clone()).await.expect("join");
    }
    publish(
        &bus,
        topic,
        1,
        Kind::UserJoined(UserJoined::default()),
        Some(ann_id),
    )
    .await;
    assert_eq!(bob.next().await, "UserJoined:1");
    ann_tab1.nothing_more().await;
    ann_tab2.nothing_more().await;
}

#[tokio::test]
async fn a_removed_collaborator_gets_the_removal_then_nothing_more() {
    let bus = bus();
    let node = Node::new(bus.clone(), CancellationToken::new(), RESUBSCRIBE_DELAY);
    let encoder = Arc::new(CountingEncoder::default());
    let topic = LIST.topic(Uuid::new_v4());
    let bob_id = Uuid::new_v4();
    let mut ann = client(Uuid::new_v4(), &encoder);
    let mut bob_tab1 = client(bob_id, &encoder);
    let mut bob_tab2 = client(bob_id, &encoder);
    for c in [&ann, &bob_tab1, &bob_tab2] {
        node.join(topic, c.member.clone()).await.expect("join");
    }
    let removal = Kind::CollaboratorRemoved(CollaboratorRemoved {
        user_id: bob_id.to_string(),
        ..Default::default()
    });
    publish(&bus, topic, 1, removal, None).await;
    publish(&bus, topic, 2, deleted(), None).await;

    for bob in [&mut bob_tab1, &mut bob_tab2] {
        assert_eq!(bob.next().await, "CollaboratorRemoved:1");
        bob.nothing_more().await;
        assert!(!node.is_member(&topic, &bob.member.connection_id));
    }
    assert_eq!(ann.next().await, "CollaboratorRemoved:1");
    assert_eq!(ann.next().await, "ItemDeleted:2");
}

#[tokio::test]
async fn the_last_member_leaving_ends_the_group_and_a_new_join_starts_it_again() {
    let bus = bus();
    let node = Node::new(bus.clone(), CancellationToken::new(), RESUBSCRIBE_DELAY);
    let encoder = Arc::new(CountingEncoder::default());
    let topic = LIST.topic(Uuid::new_v4());
    let mut ann = client(Uuid::new_v4(), &encoder);
    node.join(topic, ann.member.clone()).await.expect("join");
    node.leave(&topic, &ann.member.connection_id);
    assert!(!node.is_member(&topic, &ann.member.connection_id));
    publish(&bus, topic, 1, deleted(), None).await;
    ann.nothing_more().await;

    node.join(topic, ann.member.clone())
        .await
        .expect("join again");
    publish(&bus, topic, 2, deleted(), None).await;
    assert_eq!(ann.next().await, "ItemDeleted:2");
}

/// Issue 11 item 5: presence notices (sequence 0) reach the others live, in
/// their place between numbered events, and are not part of the history, so
/// neither the actor's live sequence nor a catch-up has a hole.
#[tokio::test]
async fn presence_notices_are_delivered_live_and_left_out_of_the_history() {
    let bus = bus();
    let node = Node::new(bus.clone(), CancellationToken::new(), RESUBSCRIBE_DELAY);
    let encoder = Arc::new(CountingEncoder::default());
    let topic = LIST.topic(Uuid::new_v4());
    let ann_id = Uuid::new_v4();
    let bob_id = Uuid::new_v4();
    let mut ann = client(ann_id, &encoder);
    let mut bob = client(bob_id, &encoder);
    for c in [&ann, &bob] {
        node.join(topic, c.member.clone()).await.expect("join");
    }
    let joined = || Kind::UserJoined(UserJoined::default());
    publish(&bus, topic, 0, joined(), Some(ann_id)).await;
    publish(&bus, topic, 1, deleted(), None).await;
    publish(&bus, topic, 0, joined(), Some(bob_id)).await;
    publish(&bus, topic, 2, deleted(), None).await;

    assert_eq!(ann.next().await, "ItemDeleted:1");
    assert_eq!(ann.next().await, "UserJoined:0");
    assert_eq!(ann.next().await, "ItemDeleted:2");
    ann.nothing_more().await;
    assert_eq!(bob.next().await, "UserJoined:0");
    assert_eq!(bob.next().await, "ItemDeleted:1");
    assert_eq!(bob.next().await, "ItemDeleted:2");
    bob.nothing_more().await;

    let page = |after| {
        read_history(
            &bus,
            &topic,
            HistoryCursor::after(after),
            10.try_into().expect("non-zero"),
        )
    };
    let sequences = |history: History| -> (Vec<u64>, Option<ResetReason>) {
        (
            history.events.iter().map(|e| e.sequence).collect(),
            history.reset,
        )
    };
    assert_eq!(sequences(page(0).await.expect("read")), (vec![1, 2], None));
    assert_eq!(sequences(page(1).await.expect("read")), (vec![2], None));

    // A notice retained before the first numbered event does not hide that
    // numbers before it are gone.
    let expired = LIST.topic(Uuid::new_v4());
    publish(&bus, expired, 0, joined(), None).await;
    publish(&bus, expired, 3, deleted(), None).await;
    let history = read_history(
        &bus,
        &expired,
        HistoryCursor::after(1),
        10.try_into().expect("non-zero"),
    )
    .await
    .expect("read");
    assert_eq!(sequences(history), (vec![3], Some(ResetReason::Expired)));
}
