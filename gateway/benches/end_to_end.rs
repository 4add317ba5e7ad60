//! The whole path under concurrent load: gRPC `AddItem` → PostgreSQL
//! transaction with its outbox row → relay → JetStream → gateway node →
//! SignalR WebSocket clients. The shopping-list service and the gateway run
//! in this process on loopback (port 0), with a throw-away database and a bus
//! namespace of their own on the shared NATS.
//!
//! Lists get members (distinct users, each on one raw SignalR JSON WebSocket,
//! joined); writers send `AddItem` to random lists, each item stamped with its
//! send time. Every member checks that it receives every event of its list
//! exactly once and in sequence order — the run fails otherwise — and records
//! the latency from command send to its arrival.
//!
//! Baseline, measured in the same run: the same messages published straight
//! to JetStream (publish with ack, same number of writers) and read by one
//! subscriber per list, with no database and no gateway; and once more from
//! a single writer, which is how the outbox relay publishes (each message
//! acknowledged before the next), so that row is the relay's ceiling. Prints
//! all three and the ratio of the end-to-end figures to the baseline's.
//!
//! `cargo bench -p pulse-gateway --bench end_to_end` (sizes: E2E_LISTS,
//! E2E_CONNECTIONS, E2E_COMMANDS, E2E_WRITERS, E2E_DB_CONNECTIONS,
//! E2E_TIMEOUT_SECS). Under `cargo test --benches` it runs small, as a check.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use clap::Parser;
use futures::{stream, SinkExt, StreamExt};
use prost::Message as _;
use pulse_bus::{Bus, Namespace, StartAt, StreamKind, Topic};
use pulse_gateway::{GatewayApp, GatewayConfig};
use pulse_lists::{ListsApp, ListsConfig};
use pulse_proto::{
    events::v1::{event::Kind, Event, EventEnvelope},
    lists::v1::{
        shopping_lists_client::ShoppingListsClient, AddItemRequest, CreateListRequest,
        GetListRequest, Item, ItemAdded, NewItem, ShareListRequest,
    },
};
use pulse_testkit::{TestDatabase, TestUser};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::{net::TcpStream, task::JoinHandle, time::Instant as Deadline};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};
use uuid::Uuid;

const HUB: &str = "/hubs/shopping-list";
const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
const PING: &str = "{\"type\":6}\u{1e}";
/// What the JavaScript client sends by default, well inside the gateway's 30 s client timeout.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The item each list gets after every measured command was acknowledged. The
/// relay publishes in commit order, so a member that has it has had the chance
/// to see every event before it, duplicates included.
const SENTINEL: &str = "sentinel";
/// Joins in flight at once while setting up.
const SETUP_CONCURRENCY: usize = 64;
/// Time left for stopping and cleaning up when the run gives up waiting.
const CLEANUP_RESERVE: Duration = Duration::from_secs(15);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Bearer = MetadataValue<Ascii>;

#[derive(Parser)]
struct ListsArgs {
    #[command(flatten)]
    config: ListsConfig,
}

#[derive(Parser)]
struct GatewayArgs {
    #[command(flatten)]
    config: GatewayConfig,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Sizes {
    lists: usize,
    members: usize,
    commands: usize,
    writers: usize,
    db_connections: usize,
    timeout: Duration,
}

impl Sizes {
    /// `smoke`: run by `cargo test --benches` (no `--bench` argument), where
    /// only the correctness check matters and the defaults are small.
    fn from_env(smoke: bool) -> Self {
        let default = |full: usize, small: usize| if smoke { small } else { full };
        let lists = env("E2E_LISTS", default(50, 5)).max(1);
        Self {
            lists,
            members: (env("E2E_CONNECTIONS", default(1_000, 20)) / lists).max(1),
            commands: env("E2E_COMMANDS", default(2_000, 100)).max(1),
            writers: env("E2E_WRITERS", default(32, 4)).max(1),
            db_connections: env("E2E_DB_CONNECTIONS", 10).max(1),
            timeout: Duration::from_secs(env("E2E_TIMEOUT_SECS", 120) as u64),
        }
    }

    fn connections(&self) -> usize {
        self.lists * self.members
    }

    /// Both ends of every WebSocket are in this process; refuse to start
    /// rather than fail half-way on the open-files limit.
    fn check_open_files(&self) {
        let needed = self.connections() * 2 + self.writers + 200;
        let limit = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|limits| {
                let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
                line.split_whitespace().nth(3)?.parse::<usize>().ok()
            });
        if let Some(limit) = limit {
            assert!(
                needed < limit,
                "{} connections need ~{needed} open files (both ends are in this process); the limit is {limit}",
                self.connections()
            );
        }
    }
}

/// Which list, and which of its members as author, each command goes to;
/// drawn once from a fixed seed, so both runs carry the same load.
struct Plan {
    targets: Vec<(usize, usize)>,
    /// Per list, its command indices in ascending order.
    per_list: Vec<Vec<usize>>,
}

impl Plan {
    fn new(sizes: &Sizes) -> Self {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let mut per_list = vec![Vec::new(); sizes.lists];
        let targets = (0..sizes.commands)
            .map(|index| {
                let list = rng.random_range(0..sizes.lists);
                per_list[list].push(index);
                (list, rng.random_range(0..sizes.members))
            })
            .collect();
        Self { targets, per_list }
    }
}

/// Microseconds since the run began: send times travel inside the items, and
/// sender and receivers share this process, so one monotonic clock serves both.
#[derive(Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn now(self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// What one run measured (microseconds on the [`Clock`]).
struct Figures {
    first_send: u64,
    last_ack: u64,
    last_arrival: u64,
    acks: Vec<u64>,
    latencies: Vec<u64>,
}

impl Figures {
    fn acked_per_second(&self, commands: usize) -> f64 {
        per_second(commands, self.last_ack - self.first_send)
    }

    fn delivered_per_second(&self) -> f64 {
        per_second(self.latencies.len(), self.last_arrival - self.first_send)
    }
}

fn per_second(count: usize, micros: u64) -> f64 {
    count as f64 / (micros.max(1) as f64 / 1e6)
}

/// The `q` quantile (nearest rank) of sorted samples, in milliseconds.
fn quantile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e3
}

/// Sends every planned command from `senders.len()` concurrent writers, each
/// waiting for its acknowledgement before the next; returns the first send,
/// the last acknowledgement and every command's send-to-ack time.
async fn drive<S, F, Fut>(
    plan: &Plan,
    senders: Vec<S>,
    clock: Clock,
    send: F,
) -> Result<(u64, u64, Vec<u64>), String>
where
    S: Clone + Send + 'static,
    F: Fn(S, usize, (usize, usize), u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let targets = Arc::new(plan.targets.clone());
    let first_send = clock.now();
    let writers: Vec<_> = senders
        .into_iter()
        .map(|sender| {
            let (next, targets, send) = (next.clone(), targets.clone(), send.clone());
            tokio::spawn(async move {
                let (mut last_ack, mut acks) = (0, Vec::new());
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&target) = targets.get(index) else {
                        break;
                    };
                    let sent = clock.now();
                    send(sender.clone(), index, target, sent).await?;
                    last_ack = clock.now();
                    acks.push(last_ack - sent);
                }
                Ok::<_, String>((last_ack, acks))
            })
        })
        .collect();
    let (mut last_ack, mut acks) = (first_send, Vec::with_capacity(targets.len()));
    for writer in writers {
        let (last, mut times) = writer.await.map_err(|e| format!("writer: {e}"))??;
        last_ack = last_ack.max(last);
        acks.append(&mut times);
    }
    Ok((first_send, last_ack, acks))
}

/// What a receiver got: send-to-arrival times of the measured events.
struct Arrivals {
    latencies: Vec<u64>,
    last_arrival: u64,
}

fn command_index(name: &str) -> Option<usize> {
    name.strip_prefix("cmd-")?.parse().ok()
}

/// Exactly the planned commands, each once.
fn check_exactly_once(
    who: &str,
    mut received: Vec<usize>,
    expected: &[usize],
) -> Result<(), String> {
    received.sort_unstable();
    if received == expected {
        return Ok(());
    }
    let duplicate = received.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]);
    let missing = expected.iter().find(|i| received.binary_search(i).is_err());
    Err(format!(
        "{who}: {} events instead of {} (first duplicate {duplicate:?}, first missing {missing:?})",
        received.len(),
        expected.len()
    ))
}

// ---------------------------------------------------------------- baseline

fn bus_payload(topic: &Topic, index: usize, sent: u64) -> bytes::Bytes {
    let envelope = EventEnvelope {
        group: topic.group(),
        sequence: index as u64 + 1,
        occurred_at: "2026-11-23T12:00:00.000Z".into(),
        except_user_id: None,
        event: Some(Event {
            kind: Some(Kind::ItemAdded(ItemAdded {
                event_type: "ItemAdded".into(),
                list_id: topic.id().map(|id| id.to_string()).unwrap_or_default(),
                item: Some(Item {
                    id: Uuid::new_v4().to_string(),
                    name: format!("cmd-{index}"),
                    quantity: 1.0,
                    notes: Some(sent.to_string()),
                    created_at: "2026-11-23T12:00:00.000Z".into(),
                    ..Default::default()
                }),
                timestamp: "2026-11-23T12:00:00.000Z".into(),
            })),
        }),
    };
    envelope.encode_to_vec().into()
}

/// One subscriber per list reading its planned messages (the group's events
/// up to `after` skipped), checking each arrives once and in stream order.
async fn bus_subscriber(
    bus: &Bus,
    topic: Topic,
    after: u64,
    expected: Vec<usize>,
    clock: Clock,
    give_up: Deadline,
) -> Result<JoinHandle<Result<Arrivals, String>>, String> {
    let mut deliveries = bus
        .subscribe(&topic, StartAt::New)
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    Ok(tokio::spawn(async move {
        let (mut received, mut latencies) = (Vec::new(), Vec::new());
        let (mut last_arrival, mut stream_sequence) = (0, 0);
        while received.len() < expected.len() {
            let delivery = tokio::time::timeout_at(give_up, deliveries.next())
                .await
                .map_err(|_| {
                    format!(
                        "{topic}: gave up with {}/{}",
                        received.len(),
                        expected.len()
                    )
                })?
                .ok_or_else(|| format!("{topic}: subscription ended"))?
                .map_err(|e| format!("{topic}: {e}"))?;
            last_arrival = clock.now();
            if delivery.stream_sequence <= stream_sequence {
                return Err(format!("{topic}: stream sequence went back"));
            }
            stream_sequence = delivery.stream_sequence;
            let envelope = EventEnvelope::decode(delivery.payload)
                .map_err(|e| format!("{topic}: not an envelope: {e}"))?;
            if envelope.sequence <= after {
                continue;
            }
            let item = match envelope.event.and_then(|event| event.kind) {
                Some(Kind::ItemAdded(added)) => added.item,
                _ => None,
            }
            .ok_or_else(|| format!("{topic}: not an ItemAdded"))?;
            let index = command_index(&item.name).ok_or("unstamped item name")?;
            let sent: u64 = item
                .notes
                .and_then(|n| n.parse().ok())
                .ok_or("no send time")?;
            received.push(index);
            latencies.push(last_arrival.saturating_sub(sent));
        }
        check_exactly_once(&topic.to_string(), received, &expected)?;
        Ok(Arrivals {
            latencies,
            last_arrival,
        })
    }))
}

async fn bus_only(
    sizes: &Sizes,
    writers: usize,
    plan: &Plan,
    clock: Clock,
    give_up: Deadline,
) -> Result<Figures, String> {
    let namespace =
        Namespace::new(&pulse_testkit::unique_namespace()).map_err(|e| e.to_string())?;
    let bus = Bus::connect(&pulse_testkit::shared_nats_url(), namespace.clone())
        .await
        .map_err(|e| format!("nats: {e}"))?;
    let result = async {
        bus.ensure_stream(StreamKind::Lists, pulse_testkit::EVENT_RETENTION)
            .await
            .map_err(|e| format!("stream: {e}"))?;
        let topics: Vec<Topic> = (0..sizes.lists)
            .map(|_| Topic::List(Uuid::new_v4()))
            .collect();
        let mut subscribers = Vec::with_capacity(sizes.lists);
        for (topic, expected) in topics.iter().zip(&plan.per_list) {
            subscribers
                .push(bus_subscriber(&bus, *topic, 0, expected.clone(), clock, give_up).await?);
        }
        let topics = Arc::new(topics);
        let (first_send, last_ack, acks) = drive(
            plan,
            vec![bus.clone(); writers],
            clock,
            move |bus: Bus, index, (list, _), sent| {
                let topic = topics[list];
                async move {
                    bus.publish(
                        &topic,
                        &format!("bench:{index}"),
                        bus_payload(&topic, index, sent),
                    )
                    .await
                    .map_err(|e| format!("publish: {e}"))
                }
            },
        )
        .await?;
        let mut outcomes = Vec::with_capacity(subscribers.len());
        for subscriber in subscribers {
            outcomes.push(subscriber.await.map_err(|e| format!("subscriber: {e}"))?);
        }
        collect(first_send, last_ack, acks, outcomes)
    }
    .await;
    delete_streams(&namespace).await;
    result
}

/// The figures of a run once every receiver reported; fails naming the first
/// few receivers that did not get what they should have.
fn collect(
    first_send: u64,
    last_ack: u64,
    acks: Vec<u64>,
    outcomes: Vec<Result<Arrivals, String>>,
) -> Result<Figures, String> {
    let mut figures = Figures {
        first_send,
        last_ack,
        last_arrival: first_send,
        acks,
        latencies: Vec::new(),
    };
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(mut arrivals) => {
                figures.last_arrival = figures.last_arrival.max(arrivals.last_arrival);
                figures.latencies.append(&mut arrivals.latencies);
            }
            Err(failure) => failures.push(failure),
        }
    }
    if !failures.is_empty() {
        let shown: Vec<_> = failures.iter().take(5).cloned().collect();
        return Err(format!(
            "{} receivers failed: {}",
            failures.len(),
            shown.join("; ")
        ));
    }
    figures.acks.sort_unstable();
    figures.latencies.sort_unstable();
    Ok(figures)
}

/// Removes the run's streams from the shared NATS (best effort).
async fn delete_streams(namespace: &Namespace) {
    let Ok(client) = async_nats::connect(pulse_testkit::shared_nats_url()).await else {
        return;
    };
    let jetstream = async_nats::jetstream::new(client);
    let prefix = format!("{}_", namespace.as_str().to_ascii_uppercase());
    let names: Vec<String> = jetstream
        .stream_names()
        .filter_map(|name| async move { name.ok() })
        .filter(|name| std::future::ready(name.starts_with(&prefix)))
        .collect()
        .await;
    for name in names {
        let _ = jetstream.delete_stream(&name).await;
    }
}

// -------------------------------------------------------------- end to end

/// The shopping-list service and a gateway on loopback, each with its own
/// NATS connection (as separate processes would have), and the database.
struct Suite {
    lists: SocketAddr,
    gateway: SocketAddr,
    namespace: Namespace,
    stop_lists: CancellationToken,
    stop_gateway: CancellationToken,
    lists_task: JoinHandle<()>,
    gateway_task: JoinHandle<()>,
    _database: TestDatabase,
}

impl Suite {
    async fn start(sizes: &Sizes) -> Result<Self, String> {
        let database = TestDatabase::create().await;
        let namespace =
            Namespace::new(&pulse_testkit::unique_namespace()).map_err(|e| e.to_string())?;
        let nats = pulse_testkit::shared_nats_url();
        let connect = || Bus::connect(&nats, namespace.clone());
        let lists_config = ListsArgs::parse_from([
            "lists",
            "--lists-addr",
            "127.0.0.1:0",
            "--database-url",
            &database.url(),
            "--db-max-connections",
            &sizes.db_connections.to_string(),
            // Longer than the run: the members send no presence heartbeat, and
            // an expiry would put UserLeft events between the measured ones.
            "--presence-timeout",
            "1h",
        ])
        .config;
        let validator = pulse_testkit::jwt_validator();
        let bus = connect().await.map_err(|e| format!("nats: {e}"))?;
        let lists = ListsApp::build(
            &lists_config,
            bus,
            pulse_testkit::EVENT_RETENTION,
            validator.clone(),
        )
        .await
        .map_err(|e| format!("lists service: {e}"))?;
        let lists_addr = lists.local_addr();
        let gateway_config = GatewayArgs::parse_from([
            "gateway",
            "--gateway-addr",
            "127.0.0.1:0",
            "--gateway-grpc-addr",
            "127.0.0.1:0",
            "--lists-url",
            &format!("http://{lists_addr}"),
        ])
        .config;
        let bus = connect().await.map_err(|e| format!("nats: {e}"))?;
        let gateway = GatewayApp::build(&gateway_config, bus, validator)
            .await
            .map_err(|e| format!("gateway: {e}"))?;
        let gateway_addr = gateway.local_addr();
        let (stop_lists, stop_gateway) = (CancellationToken::new(), CancellationToken::new());
        let gateway_task = tokio::spawn({
            let stop = stop_gateway.clone();
            async move {
                let _ = gateway.run_until_stopped(stop).await;
            }
        });
        let lists_task = tokio::spawn({
            let stop = stop_lists.clone();
            async move {
                let _ = lists.run_until_stopped(stop).await;
            }
        });
        Ok(Self {
            lists: lists_addr,
            gateway: gateway_addr,
            namespace,
            stop_lists,
            stop_gateway,
            lists_task,
            gateway_task,
            _database: database,
        })
    }

    /// Gateway first (its connections leave their lists), then the service;
    /// the database is dropped with the suite.
    async fn stop(self) {
        self.stop_gateway.cancel();
        let _ = self.gateway_task.await;
        self.stop_lists.cancel();
        let _ = self.lists_task.await;
        delete_streams(&self.namespace).await;
    }
}

fn bearer(user: &TestUser) -> Bearer {
    format!("Bearer {}", user.token())
        .parse()
        .expect("a token is ASCII")
}

fn authorized<T>(message: T, bearer: &Bearer) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

/// A list with its members: the owner first, the others editors.
struct List {
    id: String,
    members: Vec<(TestUser, Bearer)>,
}

async fn create_list(channel: Channel, index: usize, members: usize) -> Result<List, String> {
    let mut client = ShoppingListsClient::new(channel);
    let users: Vec<(TestUser, Bearer)> = (0..members)
        .map(|m| {
            let user = TestUser::new(&format!("Member {index}.{m}"));
            let bearer = bearer(&user);
            (user, bearer)
        })
        .collect();
    let owner = &users[0].1;
    let request = CreateListRequest {
        name: format!("Load {index}"),
        description: None,
    };
    let id = client
        .create_list(authorized(request, owner))
        .await
        .map_err(|e| format!("CreateList: {e}"))?
        .into_inner()
        .id;
    for (user, _) in &users[1..] {
        let share = ShareListRequest {
            list_id: id.clone(),
            user_id: user.id.to_string(),
            display_name: Some(user.name.clone()),
            permission: "Editor".into(),
        };
        client
            .share_list(authorized(share, owner))
            .await
            .map_err(|e| format!("ShareList: {e}"))?;
    }
    Ok(List { id, members: users })
}

/// The group sequence the list's snapshot reflects: everything of the set-up
/// (shares, joins) is at or below it.
async fn list_sequence(channel: Channel, list: &List) -> Result<u64, String> {
    let request = GetListRequest {
        list_id: list.id.clone(),
    };
    Ok(ShoppingListsClient::new(channel)
        .get_list(authorized(request, &list.members[0].1))
        .await
        .map_err(|e| format!("GetList: {e}"))?
        .into_inner()
        .sequence)
}

fn records(text: &str) -> impl Iterator<Item = &str> {
    text.split('\u{1e}').filter(|r| !r.is_empty())
}

async fn next_text(socket: &mut Socket) -> Result<String, String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .map_err(|_| "no message within 30 s".to_owned())?
            .ok_or("socket ended")?
            .map_err(|e| format!("socket: {e}"))?;
        match message {
            Message::Text(text) => return Ok(text.to_string()),
            Message::Close(frame) => return Err(format!("closed: {frame:?}")),
            _ => {}
        }
    }
}

/// Negotiates, connects, handshakes and joins the list, as a browser would.
async fn join(
    http: reqwest::Client,
    gateway: SocketAddr,
    token: String,
    list_id: String,
) -> Result<Socket, String> {
    let negotiated: Value = http
        .post(format!(
            "http://{gateway}{HUB}/negotiate?negotiateVersion=1"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("negotiate: {e}"))?
        .json()
        .await
        .map_err(|e| format!("negotiate: {e}"))?;
    let id = negotiated["connectionToken"]
        .as_str()
        .ok_or("negotiate: no connectionToken")?;
    let url = format!("ws://{gateway}{HUB}?id={id}&access_token={token}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("websocket: {e}"))?;
    socket
        .send(Message::text(HANDSHAKE))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let reply = next_text(&mut socket).await?;
    if !reply.starts_with("{}\u{1e}") {
        return Err(format!("handshake refused: {reply}"));
    }
    let invocation =
        json!({"type": 1, "invocationId": "join", "target": "JoinList", "arguments": [list_id]});
    socket
        .send(Message::text(format!("{invocation}\u{1e}")))
        .await
        .map_err(|e| format!("JoinList: {e}"))?;
    loop {
        let text = next_text(&mut socket).await?;
        for record in records(&text) {
            let message: Value =
                serde_json::from_str(record).map_err(|e| format!("not JSON: {e}: {record}"))?;
            if message["type"] == 3 && message["invocationId"] == "join" {
                return match message.get("error") {
                    Some(error) => Err(format!("JoinList refused: {error}")),
                    None => Ok(socket),
                };
            }
        }
    }
}

/// One member after joining: reads until its list's sentinel, failing on any
/// event out of sequence, any other event, or a close. Keeps the socket open
/// (returned) until every member is done.
async fn member(
    mut socket: Socket,
    who: String,
    after: u64,
    expected: Arc<Vec<usize>>,
    clock: Clock,
    give_up: Deadline,
) -> Result<(Arrivals, Socket), String> {
    let (mut received, mut latencies) = (Vec::with_capacity(expected.len()), Vec::new());
    let (mut next, mut last_arrival) = (after + 1, 0);
    let mut keep_alive = tokio::time::interval_at(Deadline::now() + KEEP_ALIVE, KEEP_ALIVE);
    let give_up = tokio::time::sleep_until(give_up);
    tokio::pin!(give_up);
    loop {
        let message = tokio::select! {
            () = &mut give_up => {
                return Err(format!("{who}: gave up waiting for sequence {next} ({}/{} events)", received.len(), expected.len()));
            }
            _ = keep_alive.tick() => {
                socket.send(Message::text(PING)).await.map_err(|e| format!("{who}: ping: {e}"))?;
                continue;
            }
            message = socket.next() => message,
        };
        let arrived = clock.now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => return Err(format!("{who}: closed: {frame:?}")),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(format!("{who}: socket: {error}")),
            None => return Err(format!("{who}: socket ended")),
        };
        for record in records(&text) {
            let message: Value =
                serde_json::from_str(record).map_err(|e| format!("{who}: not JSON: {e}"))?;
            match message["type"].as_u64() {
                Some(1) => {}
                Some(7) => return Err(format!("{who}: closed by the gateway: {message}")),
                _ => continue,
            }
            let event = &message["arguments"][0];
            // Not a group event (PresenceUpdate goes to the joining connection only).
            let Some(sequence) = event["sequence"].as_u64() else {
                continue;
            };
            if sequence <= after {
                continue;
            }
            if sequence != next {
                return Err(format!(
                    "{who}: expected sequence {next}, got {sequence}: {message}"
                ));
            }
            next += 1;
            let name = match (&message["target"], event["item"]["name"].as_str()) {
                (target, Some(name)) if target == "ItemAdded" => name,
                _ => return Err(format!("{who}: unexpected event {message}")),
            };
            if name == SENTINEL {
                check_exactly_once(&who, received, &expected)?;
                let arrivals = Arrivals {
                    latencies,
                    last_arrival,
                };
                return Ok((arrivals, socket));
            }
            let index = command_index(name).ok_or_else(|| format!("{who}: item {name}"))?;
            let sent: u64 = event["item"]["notes"]
                .as_str()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("{who}: item {name} has no send time"))?;
            received.push(index);
            latencies.push(arrived.saturating_sub(sent));
            last_arrival = arrived;
        }
    }
}

struct EndToEnd {
    figures: Figures,
    /// Send to arrival on JetStream: the database and relay share.
    relayed: Figures,
    setup: Duration,
}

async fn end_to_end(
    suite: &Suite,
    sizes: &Sizes,
    plan: &Plan,
    clock: Clock,
    give_up: Deadline,
) -> Result<EndToEnd, String> {
    let setup = Instant::now();
    let channel = pulse_testkit::connect(suite.lists).await;
    let lists: Vec<List> = stream::iter(0..sizes.lists)
        .map(|index| create_list(channel.clone(), index, sizes.members))
        .buffered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let http = reqwest::Client::new();
    let joins = lists.iter().enumerate().flat_map(|(index, list)| {
        list.members
            .iter()
            .enumerate()
            .map(move |(m, (user, _))| (index, m, user.token(), list.id.clone()))
    });
    let sockets: Vec<(usize, usize, Socket)> = stream::iter(joins)
        .map(|(index, m, token, list_id)| {
            let join = join(http.clone(), suite.gateway, token, list_id);
            async move { join.await.map(|socket| (index, m, socket)) }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mut after = Vec::with_capacity(lists.len());
    for list in &lists {
        after.push(list_sequence(channel.clone(), list).await?);
    }
    let setup = setup.elapsed();

    let expected: Vec<Arc<Vec<usize>>> = plan.per_list.iter().cloned().map(Arc::new).collect();
    let members: Vec<_> = sockets
        .into_iter()
        .map(|(index, m, socket)| {
            let who = format!("list {index} member {m}");
            tokio::spawn(member(
                socket,
                who,
                after[index],
                expected[index].clone(),
                clock,
                give_up,
            ))
        })
        .collect();

    // A witness on the bus, to split the latency at JetStream: before it the
    // database and the relay, after it the gateway and the WebSockets.
    let witness = Bus::connect(&pulse_testkit::shared_nats_url(), suite.namespace.clone())
        .await
        .map_err(|e| format!("nats: {e}"))?;
    let mut witnesses = Vec::with_capacity(lists.len());
    for ((list, after), expected) in lists.iter().zip(&after).zip(&plan.per_list) {
        let topic = Topic::List(list.id.parse().map_err(|e| format!("list id: {e}"))?);
        let expected = expected.clone();
        witnesses.push(bus_subscriber(&witness, topic, *after, expected, clock, give_up).await?);
    }

    let mut writers = Vec::with_capacity(sizes.writers);
    for _ in 0..sizes.writers {
        writers.push(ShoppingListsClient::new(
            pulse_testkit::connect(suite.lists).await,
        ));
    }
    let targets: Arc<Vec<(String, Vec<Bearer>)>> = Arc::new(
        lists
            .iter()
            .map(|l| {
                (
                    l.id.clone(),
                    l.members.iter().map(|(_, b)| b.clone()).collect(),
                )
            })
            .collect(),
    );
    let (first_send, last_ack, acks) = drive(plan, writers, clock, {
        let targets = targets.clone();
        move |mut client: ShoppingListsClient<Channel>, index, (list, author), sent| {
            let (list_id, bearers) = &targets[list];
            let request = AddItemRequest {
                list_id: list_id.clone(),
                item: Some(NewItem {
                    name: format!("cmd-{index}"),
                    notes: Some(sent.to_string()),
                    ..Default::default()
                }),
            };
            let request = authorized(request, &bearers[author]);
            async move {
                client
                    .add_item(request)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("AddItem: {e}"))
            }
        }
    })
    .await?;
    let mut client = ShoppingListsClient::new(channel);
    for (list_id, bearers) in targets.iter() {
        let request = AddItemRequest {
            list_id: list_id.clone(),
            item: Some(NewItem {
                name: SENTINEL.into(),
                ..Default::default()
            }),
        };
        client
            .add_item(authorized(request, &bearers[0]))
            .await
            .map_err(|e| format!("AddItem (sentinel): {e}"))?;
    }

    // Each member hands its socket back; they all close together afterwards,
    // so no member leaving (and its presence events) disturbs one still reading.
    let mut sockets = Vec::with_capacity(members.len());
    let mut outcomes = Vec::with_capacity(members.len());
    for task in members {
        let outcome = task.await.map_err(|e| format!("member: {e}"))?;
        outcomes.push(outcome.map(|(arrivals, socket)| {
            sockets.push(socket);
            arrivals
        }));
    }
    let figures = collect(first_send, last_ack, acks, outcomes)?;
    drop(sockets);
    let mut outcomes = Vec::with_capacity(witnesses.len());
    for witness in witnesses {
        outcomes.push(witness.await.map_err(|e| format!("witness: {e}"))?);
    }
    let relayed = collect(first_send, last_ack, Vec::new(), outcomes)?;
    Ok(EndToEnd {
        figures,
        relayed,
        setup,
    })
}

// -------------------------------------------------------------------- main

fn print(sizes: &Sizes, bus: &Figures, serial: &Figures, e2e: &EndToEnd) {
    let n = sizes.commands;
    let row = |name: &str, f: &Figures| {
        println!(
            "  {name:<20} {:>9.0} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            f.acked_per_second(n),
            f.delivered_per_second(),
            quantile(&f.acks, 0.5),
            quantile(&f.latencies, 0.5),
            quantile(&f.latencies, 0.9),
            quantile(&f.latencies, 0.99),
            quantile(&f.latencies, 1.0),
        );
    };
    let e = &e2e.figures;
    println!(
        "end to end: {} lists x {} members = {} SignalR WebSocket connections; {n} AddItem from {} writers = {} deliveries; db pool {}",
        sizes.lists,
        sizes.members,
        sizes.connections(),
        sizes.writers,
        e.latencies.len(),
        sizes.db_connections,
    );
    println!(
        "  set-up (lists, shares, negotiate + connect + JoinList): {:.2?}",
        e2e.setup
    );
    println!(
        "  {:<20} {:>9} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "send -> arrival:",
        "acked/s",
        "delivered/s",
        "ack p50",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms"
    );
    row("bus only (baseline)", bus);
    row("bus only, 1 writer", serial);
    row("end to end", e);
    let r = &e2e.relayed;
    println!(
        "  {:<20} {:>9} {:>12} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        "  of which to NATS",
        "",
        "",
        "",
        quantile(&r.latencies, 0.5),
        quantile(&r.latencies, 0.9),
        quantile(&r.latencies, 0.99),
        quantile(&r.latencies, 1.0),
    );
    println!(
        "  ratio end-to-end/bus: p50 latency {:.2}x, p99 latency {:.2}x, acked/s {:.2}x, messages delivered/s {:.2}x",
        quantile(&e.latencies, 0.5) / quantile(&bus.latencies, 0.5),
        quantile(&e.latencies, 0.99) / quantile(&bus.latencies, 0.99),
        e.acked_per_second(n) / bus.acked_per_second(n),
        per_second(n, e.last_arrival - e.first_send) / per_second(n, bus.last_arrival - bus.first_send),
    );
    println!(
        "  checked: each of {} members got each of its list's events exactly once, in sequence order",
        sizes.connections()
    );
}

async fn run(sizes: &Sizes, started: Deadline) -> Result<(), String> {
    let give_up = started + sizes.timeout.saturating_sub(CLEANUP_RESERVE);
    let plan = Plan::new(sizes);
    let clock = Clock(Instant::now());
    let bus = bus_only(sizes, sizes.writers, &plan, clock, give_up).await?;
    // One publisher waiting for each ack, as the outbox relay publishes: its ceiling.
    let serial = bus_only(sizes, 1, &plan, clock, give_up).await?;
    let suite = Suite::start(sizes).await?;
    let e2e = end_to_end(&suite, sizes, &plan, clock, give_up).await;
    suite.stop().await;
    print(sizes, &bus, &serial, &e2e?);
    Ok(())
}

fn main() {
    let smoke = !std::env::args().any(|arg| arg == "--bench");
    if smoke {
        println!("end to end: smoke run (small sizes; `cargo bench` runs the full one)");
    }
    let sizes = Sizes::from_env(smoke);
    sizes.check_open_files();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        let deadline = Deadline::now();
        tokio::time::timeout(sizes.timeout, run(&sizes, deadline)).await
    });
    // Stops whatever a failed or timed-out run left running.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match outcome {
        Ok(Ok(())) => println!("  run took {:.1?}", started.elapsed()),
        Ok(Err(failure)) => panic!("end-to-end benchmark failed: {failure}"),
        Err(_) => panic!(
            "end-to-end benchmark did not finish within {:?} (E2E_TIMEOUT_SECS)",
            sizes.timeout
        ),
    }
}
