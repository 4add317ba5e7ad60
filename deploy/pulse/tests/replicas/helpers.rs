//! What the replica tests share: a private NATS server and a fresh
//! database (both removed when the test ends, even when it fails), `pulse`
//! replicas started on them, callers with tokens, and the two sides of the
//! exactly-once check — what PostgreSQL committed and what JetStream stored.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use futures::StreamExt;
use prost::Message;
use pulse_auth::{JwtKeys, JwtValidator, TokenRequest};
use pulse_proto::events::v1::EventEnvelope;
use pulse_proto::lists::v1::{
    shopping_lists_client::ShoppingListsClient, AddItemRequest, CreateListRequest, NewItem,
};
use pulse_testkit::{
    connect, poll_until, wait_until, Authorized, Bearer, NatsServer, TestDatabase,
};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::replica::Replica;

/// Longest wait for anything that should happen; only runs out when a test
/// is failing.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Longest a test may run; past it, it fails and its processes are killed.
const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs a test's body, failing it if it takes longer than [`TEST_LIMIT`]:
/// its deployment is dropped either way, killing every replica.
pub async fn within_a_minute(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("the test ends within a minute");
}

/// How often a standby relay tries for the lock unasked: the `pulse`
/// default, passed explicitly, so the replicas' setting and the takeover
/// bounds the tests assert are one number.
pub const STANDBY_RETRY: Duration = Duration::from_secs(2);

/// The secret the replicas check tokens with; only has to match the tokens
/// minted here.
const JWT_SECRET: &str = "pulse-replicas-test-secret";

/// The master key the replicas are given (the task service's callers).
pub const MASTER_KEY: &str = "replicas-test-master-key";

/// A database and a NATS server of the test's own. Replicas are started on
/// them and kept here, so they are killed before the database is dropped.
pub struct Deployment {
    pub replicas: Vec<Replica>,
    pub db: TestDatabase,
    pub nats: NatsServer,
}

impl Deployment {
    pub async fn new() -> Self {
        Self {
            replicas: Vec::new(),
            db: TestDatabase::create().await,
            nats: NatsServer::start(),
        }
    }

    /// The settings every replica gets: this deployment's NATS, a
    /// namespace, tokens checked with [`JWT_SECRET`], the standby retry.
    fn shared_args(&self) -> Vec<String> {
        [
            ("--nats-url", self.nats.url()),
            ("--bus-namespace", "replicas".to_owned()),
            ("--jwt-secret", JWT_SECRET.to_owned()),
            ("--master-key", MASTER_KEY.to_owned()),
            (
                "--relay-standby-retry",
                format!("{}ms", STANDBY_RETRY.as_millis()),
            ),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect()
    }

    /// Starts a replica of `pulse <command>` on this deployment's database
    /// (the service's flags are `--<command>-addr` and, for all but lists,
    /// `--<command>-database-url`); returns its index in `replicas`.
    pub async fn start(&mut self, command: &str, ready_key: &str) -> usize {
        let database_flag = if command == "lists" {
            "--database-url".to_owned()
        } else {
            format!("--{command}-database-url")
        };
        let mut args = vec![
            format!("--{command}-addr"),
            "127.0.0.1:0".to_owned(),
            database_flag,
            self.db.url(),
        ];
        args.extend(self.shared_args());
        let name = format!("{command} #{}", self.replicas.len() + 1);
        let replica = Replica::start(&name, command, ready_key, &args).await;
        self.replicas.push(replica);
        self.replicas.len() - 1
    }

    /// Waits until exactly one of `replicas` reports leading the relay;
    /// returns its index.
    pub async fn sole_leader(&self, replicas: &[usize]) -> usize {
        poll_until("a relay leads", PATIENCE, || async {
            let mut leaders = Vec::new();
            for &index in replicas {
                if self.replicas[index].relay_leader().await == Some(true) {
                    leaders.push(index);
                }
            }
            assert!(leaders.len() < 2, "two relays lead at once: {leaders:?}");
            leaders.first().copied()
        })
        .await
    }

    /// How many committed events wait in the outbox, unpublished.
    pub async fn waiting(&self) -> i64 {
        let mut conn = PgConnection::connect(&self.db.url())
            .await
            .expect("database");
        sqlx::query_scalar("SELECT count(*) FROM pulse_outbox")
            .fetch_one(&mut conn)
            .await
            .expect("outbox count")
    }

    /// Waits until every committed event has been published (the outbox is
    /// empty).
    pub async fn outbox_drained(&self) {
        wait_until("every committed event published", PATIENCE, || async {
            self.waiting().await == 0
        })
        .await;
    }

    /// Each group's last event sequence as the database numbered them: the
    /// events that committed.
    pub async fn committed(&self) -> BTreeMap<String, u64> {
        let mut conn = PgConnection::connect(&self.db.url())
            .await
            .expect("database");
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT topic, last_sequence FROM pulse_event_sequences")
                .fetch_all(&mut conn)
                .await
                .expect("sequences");
        rows.into_iter()
            .map(|(group, last)| (group, u64::try_from(last).expect("positive")))
            .collect()
    }

    /// Every message JetStream stored, in stream order, from every stream.
    pub async fn stored(&self) -> Vec<Stored> {
        let client = async_nats::connect(self.nats.url()).await.expect("nats");
        let jetstream = async_nats::jetstream::new(client);
        let names: Vec<String> = jetstream
            .stream_names()
            .map(|name| name.expect("stream name"))
            .collect()
            .await;
        let mut stored = Vec::new();
        for name in names {
            let mut stream = jetstream.get_stream(&name).await.expect("stream");
            let info = stream.info().await.expect("stream info");
            if info.state.messages == 0 {
                continue;
            }
            let (first, last) = (info.state.first_sequence, info.state.last_sequence);
            for sequence in first..=last {
                let message = stream
                    .get_raw_message(sequence)
                    .await
                    .expect("stored message");
                let envelope = EventEnvelope::decode(message.payload).expect("an envelope");
                stored.push(Stored {
                    group: envelope.group,
                    sequence: envelope.sequence,
                    item_name: added_item_name(envelope.event),
                    at_nanos: message.time.unix_timestamp_nanos(),
                });
            }
        }
        stored
    }
}

/// One message as JetStream stored it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub group: String,
    /// The group's event sequence (0 for a presence notice).
    pub sequence: u64,
    /// The item an `ItemAdded` added, to match it to the call that made it.
    pub item_name: Option<String>,
    /// When the stream stored it (the broker's clock, this machine's).
    pub at_nanos: i128,
}

fn added_item_name(event: Option<pulse_proto::events::v1::Event>) -> Option<String> {
    use pulse_proto::lists::v1::event::Kind;
    match Kind::try_from(event?) {
        Ok(Kind::ItemAdded(added)) => added.item.map(|item| item.name),
        _ => None,
    }
}

/// Checks the stream against the database: each group's numbered events
/// stored exactly once, in sequence order, 1 to the last committed, none
/// missing. Returns how many numbered events that is.
pub fn assert_exactly_once(stored: &[Stored], committed: &BTreeMap<String, u64>) -> u64 {
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for message in stored.iter().filter(|m| m.sequence > 0) {
        let last = seen.entry(&message.group).or_default();
        assert_eq!(
            message.sequence,
            *last + 1,
            "{}: event {} stored after {} (a gap, a repeat or a reorder)",
            message.group,
            message.sequence,
            last
        );
        *last = message.sequence;
    }
    for (group, last) in committed {
        assert_eq!(
            seen.get(group.as_str()).copied().unwrap_or(0),
            *last,
            "{group}: committed up to {last}, stored up to the number shown"
        );
    }
    assert_eq!(
        seen.len(),
        committed.len(),
        "a group stored that never committed"
    );
    committed.values().sum()
}

/// A caller of the lists service, as `user`, on a connection of its own to
/// the replica at `addr`.
pub async fn lists_client(addr: SocketAddr, user: Uuid) -> ShoppingListsClient<Authorized> {
    ShoppingListsClient::with_interceptor(connect(addr).await, bearer(user))
}

/// A token for `user` that the replicas accept.
pub fn bearer(user: Uuid) -> Bearer {
    bearer_with_roles(user, Vec::new())
}

/// [`bearer`] for a user with `roles` (`service`: another service calling).
pub fn bearer_with_roles(user: Uuid, roles: Vec<String>) -> Bearer {
    let validator = JwtValidator::new(&JwtKeys::Hs256(SecretString::from(JWT_SECRET)))
        .expect("HS256 validator");
    let token = validator
        .mint(&TokenRequest {
            sub: user,
            name: "Replica Tester".to_owned(),
            roles,
            exp: chrono::Utc::now().timestamp() + 3600,
        })
        .expect("token");
    Bearer::new(Some(&token))
}

/// Creates `count` lists owned by the client's user; their ids.
pub async fn create_lists(
    client: &mut ShoppingListsClient<Authorized>,
    count: usize,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let list = client
            .create_list(CreateListRequest {
                name: format!("list {n}"),
                description: None,
            })
            .await
            .expect("list created")
            .into_inner();
        ids.push(list.id);
    }
    ids
}

/// An `AddItem` of a uniquely named item, which its `ItemAdded` names.
pub fn add_item(list_id: &str, item_name: &str) -> AddItemRequest {
    AddItemRequest {
        list_id: list_id.to_owned(),
        item: Some(NewItem {
            name: item_name.to_owned(),
            ..NewItem::default()
        }),
    }
}
