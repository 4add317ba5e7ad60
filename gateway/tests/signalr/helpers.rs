//! A running suite (lists service + gateway on random ports, real NATS and
//! PostgreSQL, a database and bus namespace of its own) and a raw SignalR
//! client that speaks the JSON protocol over a WebSocket.

use std::{collections::VecDeque, net::SocketAddr, sync::Arc, time::Duration};

use clap::Parser;
use futures::{SinkExt, StreamExt};
use pulse_auth::{JwtKeys, JwtValidator, TokenRequest};
use pulse_bus::{Bus, Namespace};
use pulse_gateway::{
    node::{Node, NodeStats},
    GatewayApp, GatewayConfig,
};
use pulse_lists::{ListsApp, ListsConfig};
use pulse_proto::lists::LIST;
use pulse_testkit::{TcpProxy, TestDatabase};
use serde_json::{json, Value};
use tokio::{net::TcpStream, task::JoinHandle};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const HUB: &str = "/hubs/shopping-list";
/// Signs the suite's tokens.
pub const SECRET: &str = "integration-test-secret";
pub const WAIT: Duration = Duration::from_secs(10);

/// A test client's WebSocket to the gateway.
pub type TestSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The next message of any kind `ws` receives, failing after [`WAIT`] or if the socket ends.
pub async fn next_in_time(ws: &mut TestSocket) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a message in time")
        .expect("socket open")
        .expect("socket ok")
}

/// Checks `holds` until it is true, failing after [`WAIT`]: what the gateway does on its own
/// (clean-up after a drop, reaping, taking a request) happens asynchronously, so it is polled.
pub async fn eventually(what: &str, holds: impl Fn() -> bool) {
    pulse_testkit::wait_until(what, WAIT, async || holds()).await;
}

#[derive(Parser)]
struct ListsArgs {
    #[command(flatten)]
    config: ListsConfig,
}

/// A test's own arguments come after the suite's and replace them.
#[derive(Parser)]
#[command(args_override_self = true)]
pub struct GatewayArgs {
    #[command(flatten)]
    pub config: GatewayConfig,
}

pub struct TestSuite {
    pub gateway: SocketAddr,
    /// The gateway's gRPC subscription API.
    pub gateway_grpc: SocketAddr,
    pub lists: SocketAddr,
    /// The task service, when the suite runs it ([`SuiteOptions::key_services`]).
    pub task_service: Option<SocketAddr>,
    pub validator: JwtValidator,
    wiring: Wiring,
    bus: Bus,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    running_gateway: RunningGateway,
    /// Further gateways on the same bus (several instances behind a balancer).
    extra_gateways: Vec<RunningGateway>,
    _databases: Vec<TestDatabase>,
    /// Between the shopping-list service and its database when started with
    /// [`SuiteOptions::database_proxy`], so a test can take the database away.
    database_proxy: Option<TcpProxy>,
}

/// Master key of suites that run the task service.
pub const MASTER_KEY: &str = "integration-master-key-0123456789";

/// What a suite runs besides the lists service and the gateway.
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// Further gateway arguments (limits made small for a test).
    pub gateway_args: Vec<String>,
    /// Also run the task and coaching services, with [`MASTER_KEY`], for the virtual-key hubs.
    pub key_services: bool,
    /// Put a proxy between the shopping-list service and its database, so
    /// [`TestSuite::cut_database`] can take it away.
    pub database_proxy: bool,
}

/// A gateway whose disconnect timeout (3 s elsewhere in the suite) is short enough for a test to
/// wait for reaping, looked for often.
pub fn reaped_soon() -> SuiteOptions {
    SuiteOptions {
        gateway_args: ["--disconnect-timeout", "1s", "--reap-interval", "100ms"]
            .map(str::to_owned)
            .to_vec(),
        ..SuiteOptions::default()
    }
}

/// Where a gateway finds the services, and its own further arguments.
#[derive(Debug, Clone)]
struct Wiring {
    lists: SocketAddr,
    tasks: Option<SocketAddr>,
    coaching: Option<SocketAddr>,
    args: Vec<String>,
}

/// A gateway that can be stopped on its own.
struct RunningGateway {
    http: SocketAddr,
    grpc: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
    node: Arc<Node>,
    connections: Box<dyn Fn() -> usize + Send + Sync>,
    waiting_polls: Box<dyn Fn() -> usize + Send + Sync>,
    key_checks: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl RunningGateway {
    async fn start(bus: &Bus, validator: &JwtValidator, wiring: &Wiring) -> Self {
        let lists = wiring.lists;
        let services = [
            ("--tasks-url", wiring.tasks),
            ("--coaching-url", wiring.coaching),
        ];
        let service_args = services
            .into_iter()
            .filter_map(|(flag, addr)| Some([flag.to_owned(), format!("http://{}", addr?)]))
            .flatten();
        let args = [
            "gateway",
            "--gateway-addr",
            "127.0.0.1:0",
            "--gateway-grpc-addr",
            "127.0.0.1:0",
            "--lists-url",
            &format!("http://{lists}"),
            "--max-message-size",
            "1024",
            "--long-poll-timeout",
            "2s",
            "--disconnect-timeout",
            "3s",
            "--stream-heartbeat-interval",
            "1s",
            "--stream-queue-bytes",
            "65536",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain(service_args)
        .chain(wiring.args.iter().cloned());
        let mut config = GatewayArgs::parse_from(args).config;
        if wiring.tasks.is_some() {
            config.master_key = pulse_auth::MasterKey::new(MASTER_KEY);
        }
        let gateway = GatewayApp::build(&config, bus.clone(), validator.clone())
            .await
            .expect("gateway starts");
        let (http, grpc) = (gateway.local_addr(), gateway.grpc_local_addr());
        let (node, connections) = (gateway.node(), Box::new(gateway.connection_count()));
        let key_checks = Box::new(gateway.virtual_key_checks());
        let waiting_polls = Box::new(gateway.waiting_polls());
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let _ = gateway.run_until_stopped(stop).await;
            }
        });
        Self {
            http,
            grpc,
            stop,
            task,
            node,
            connections,
            waiting_polls,
            key_checks,
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

impl TestSuite {
    /// On the shared NATS.
    pub async fn start() -> Self {
        Self::start_on(&pulse_testkit::shared_nats_url()).await
    }

    pub async fn start_on(nats_url: &str) -> Self {
        Self::start_with(nats_url, None, SuiteOptions::default()).await
    }

    /// On the shared NATS, with `options`.
    pub async fn start_with_options(options: SuiteOptions) -> Self {
        Self::start_with(&pulse_testkit::shared_nats_url(), None, options).await
    }

    /// A suite whose shopping-list service trusts another JWT secret than the gateway, so the
    /// gateway admits tokens the service refuses (as with a credential revoked after admission).
    pub async fn start_with_service_secret(secret: &str) -> Self {
        let validator =
            JwtValidator::new(&JwtKeys::Hs256(secret.to_owned().into())).expect("validator");
        Self::start_with(
            &pulse_testkit::shared_nats_url(),
            Some(validator),
            SuiteOptions::default(),
        )
        .await
    }

    /// A suite whose shopping-list service reaches its database through a
    /// proxy: [`TestSuite::cut_database`] takes it away.
    pub async fn start_with_database_proxy() -> Self {
        Self::start_with_options(SuiteOptions {
            database_proxy: true,
            ..SuiteOptions::default()
        })
        .await
    }

    async fn start_with(
        nats_url: &str,
        service_validator: Option<JwtValidator>,
        options: SuiteOptions,
    ) -> Self {
        let database = TestDatabase::create().await;
        let database_proxy = if options.database_proxy {
            Some(TcpProxy::start(database.server()).await)
        } else {
            None
        };
        let database_url = database_proxy.as_ref().map_or_else(
            || database.url(),
            |proxy| database.url_through(proxy.addr()),
        );
        let namespace = Namespace::new(&pulse_testkit::unique_namespace()).expect("namespace");
        let bus = Bus::connect(nats_url, namespace).await.expect("bus");
        let validator =
            JwtValidator::new(&JwtKeys::Hs256(SECRET.to_owned().into())).expect("validator");
        let lists_config = ListsArgs::parse_from([
            "lists",
            "--lists-addr",
            "127.0.0.1:0",
            "--database-url",
            &database_url,
        ])
        .config;
        let service_validator = service_validator.unwrap_or_else(|| validator.clone());
        let lists = ListsApp::build(
            &lists_config,
            bus.clone(),
            pulse_testkit::EVENT_RETENTION,
            service_validator,
        )
        .await
        .expect("lists service starts");
        let lists_addr = lists.local_addr();
        let stop = CancellationToken::new();
        let lists_task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let _ = lists.run_until_stopped(stop).await;
            }
        });
        let mut tasks = vec![lists_task];
        let mut databases = vec![database];
        let mut wiring = Wiring {
            lists: lists_addr,
            tasks: None,
            coaching: None,
            args: options.gateway_args,
        };
        if options.key_services {
            let (tasks_addr, task) = start_tasks(&bus, &stop, &mut databases).await;
            let (coaching_addr, coaching) =
                start_coaching(&bus, &validator, &stop, &mut databases).await;
            tasks.extend([task, coaching]);
            wiring.tasks = Some(tasks_addr);
            wiring.coaching = Some(coaching_addr);
        }
        // The services' relays create their streams as they start, while a
        // test may already subscribe (a gRPC subscription to a group whose
        // stream is missing is refused as UNAVAILABLE, to be retried): the
        // suite has them all from the start, as a system that ran once has.
        for kind in pulse_proto::GROUP_KINDS.iter() {
            bus.ensure_stream(kind, pulse_testkit::EVENT_RETENTION)
                .await
                .expect("stream");
        }
        let gateway = RunningGateway::start(&bus, &validator, &wiring).await;
        Self {
            gateway: gateway.http,
            gateway_grpc: gateway.grpc,
            lists: lists_addr,
            task_service: wiring.tasks,
            validator,
            wiring,
            bus,
            stop,
            tasks,
            running_gateway: gateway,
            extra_gateways: Vec::new(),
            _databases: databases,
            database_proxy,
        }
    }

    /// Makes the shopping-list service's database unreachable (every
    /// connection to it closed) until [`TestSuite::restore_database`].
    pub fn cut_database(&self) {
        self.database_proxy().cut();
    }

    pub fn restore_database(&self) {
        self.database_proxy().restore();
    }

    fn database_proxy(&self) -> &TcpProxy {
        self.database_proxy
            .as_ref()
            .expect("a suite started with start_with_database_proxy")
    }

    /// Removes every retained event of a list from JetStream, as retention
    /// would after the list was quiet for longer than it.
    pub async fn purge_list_history(&self, list_id: &str) {
        let topic = LIST.topic(list_id.parse().expect("uuid"));
        let namespace = self.bus.namespace();
        let client = async_nats::connect(pulse_testkit::shared_nats_url())
            .await
            .expect("nats");
        let stream_name = format!("{}_LISTS", namespace.as_str().to_ascii_uppercase());
        async_nats::jetstream::new(client)
            .get_stream(stream_name)
            .await
            .expect("stream")
            .purge()
            .filter(namespace.subject(&topic))
            .await
            .expect("purge");
    }

    /// Stops the gateway (its connections close) and starts a new one on
    /// other ports, as a process restart would.
    pub async fn restart_gateway(&mut self) {
        let fresh = RunningGateway::start(&self.bus, &self.validator, &self.wiring).await;
        std::mem::replace(&mut self.running_gateway, fresh)
            .stop()
            .await;
        self.gateway = self.running_gateway.http;
        self.gateway_grpc = self.running_gateway.grpc;
    }

    /// Starts another gateway on the same bus and services; returns its
    /// SignalR address. It stops with the suite.
    pub async fn start_extra_gateway(&mut self) -> SocketAddr {
        let extra = RunningGateway::start(&self.bus, &self.validator, &self.wiring).await;
        let http = extra.http;
        self.extra_gateways.push(extra);
        http
    }

    /// The suite's bus, for publishing what a domain service would.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Groups and members on the (current) gateway's node.
    pub fn node_stats(&self) -> NodeStats {
        self.running_gateway.node.stats()
    }

    /// Calls the (current) gateway made to the task service to check a virtual key.
    pub fn virtual_key_checks(&self) -> u64 {
        (self.running_gateway.key_checks)()
    }

    /// SignalR connections the (current) gateway holds.
    pub fn open_connections(&self) -> usize {
        (self.running_gateway.connections)()
    }

    /// Long polls the (current) gateway holds, waiting for something to send.
    pub fn waiting_polls(&self) -> usize {
        (self.running_gateway.waiting_polls)()
    }

    pub fn token(&self, user: &User) -> String {
        self.validator
            .mint(&TokenRequest {
                sub: user.id,
                name: user.name.clone(),
                roles: vec![],
                exp: chrono::Utc::now().timestamp() + 3600,
            })
            .expect("mint")
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway)
    }

    pub async fn connect(&self, user: &User) -> RawClient {
        RawClient::connect(self, &self.token(user)).await
    }

    /// Tells the (current) gateway to shut down, without waiting: it drains.
    pub fn begin_gateway_shutdown(&self) {
        self.running_gateway.stop.cancel();
    }

    pub async fn stop(self) {
        self.running_gateway.stop().await;
        for extra in self.extra_gateways {
            extra.stop().await;
        }
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub name: String,
}

impl User {
    pub fn new(name: &str) -> Self {
        Self {
            id: Uuid::new_v4(),
            name: name.into(),
        }
    }
}

/// A SignalR client that shows the raw protocol: records in, records out.
pub struct RawClient {
    ws: TestSocket,
    received: VecDeque<Value>,
    next_id: u64,
}

impl RawClient {
    pub async fn connect(suite: &TestSuite, token: &str) -> Self {
        Self::connect_to(suite.gateway, HUB, token).await
    }

    /// A connection to `hub` on the gateway at `gateway`.
    pub async fn connect_to(gateway: SocketAddr, hub: &str, token: &str) -> Self {
        let negotiated: Value = reqwest::Client::new()
            .post(format!(
                "http://{gateway}{hub}/negotiate?negotiateVersion=1"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("negotiate")
            .error_for_status()
            .expect("negotiate 200")
            .json()
            .await
            .expect("negotiate json");
        let id = negotiated["connectionToken"].as_str().expect("token");
        let url = format!("ws://{gateway}{hub}?id={id}&access_token={token}");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket");
        let mut client = Self {
            ws,
            received: VecDeque::new(),
            next_id: 0,
        };
        client
            .send_text("{\"protocol\":\"json\",\"version\":1}\u{1e}")
            .await;
        assert_eq!(client.next_text().await, "{}\u{1e}", "handshake response");
        client
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// Sends one WebSocket message or raw frame as it is.
    pub async fn send_ws(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
    }

    /// The next WebSocket message that is not text (a Pong, a Close); hub messages read on the
    /// way stay queued for `next_message`.
    pub async fn next_control(&mut self) -> Message {
        loop {
            match self.next_ws().await {
                Message::Text(text) => self.queue_records(&text),
                message => return message,
            }
        }
    }

    /// The next WebSocket text message, raw.
    pub async fn next_text(&mut self) -> String {
        loop {
            match self.next_ws().await {
                Message::Text(text) => return text.to_string(),
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next WebSocket message of any kind, within [`WAIT`].
    async fn next_ws(&mut self) -> Message {
        next_in_time(&mut self.ws).await
    }

    /// Queues the hub messages of one text message for `next_message`.
    fn queue_records(&mut self, text: &str) {
        for record in text.split('\u{1e}').filter(|r| !r.is_empty()) {
            self.received
                .push_back(serde_json::from_str(record).expect("record is JSON"));
        }
    }

    /// The next hub message that is not a Ping.
    pub async fn next_message(&mut self) -> Value {
        loop {
            if let Some(message) = self.received.pop_front() {
                if message["type"] != 6 {
                    return message;
                }
                continue;
            }
            let text = self.next_text().await;
            self.queue_records(&text);
        }
    }

    /// Invokes and waits for the Completion; events seen meanwhile stay
    /// queued for `event`.
    pub async fn invoke(&mut self, target: &str, arguments: Value) -> Value {
        let id = self.next_id.to_string();
        self.next_id += 1;
        let record =
            json!({"type": 1, "invocationId": id, "target": target, "arguments": arguments});
        self.send_text(&format!("{record}\u{1e}")).await;
        let mut skipped = Vec::new();
        let completion = loop {
            let message = self.next_message().await;
            if message["type"] == 3 && message["invocationId"] == id {
                break message;
            }
            skipped.push(message);
        };
        for message in skipped.into_iter().rev() {
            self.received.push_front(message);
        }
        completion
    }

    /// Invokes and returns the result, failing on an error completion.
    pub async fn call(&mut self, target: &str, arguments: Value) -> Value {
        let completion = self.invoke(target, arguments).await;
        assert!(
            completion.get("error").is_none(),
            "{target} failed: {completion}"
        );
        completion.get("result").cloned().unwrap_or(Value::Null)
    }

    /// The next server→client invocation of `target`; other messages before
    /// it are dropped.
    pub async fn event(&mut self, target: &str) -> Value {
        loop {
            let message = self.next_message().await;
            if message["type"] == 1 && message["target"] == target {
                return message["arguments"][0].clone();
            }
        }
    }

    /// True when nothing received is still waiting to be read.
    pub fn expect_no_reply_pending(&self) -> bool {
        self.received.iter().all(|m| m["type"] == 6)
    }

    /// Asserts no invocation arrives within `window`.
    pub async fn expect_no_event(&mut self, window: Duration) {
        let pending: Vec<_> = self.received.drain(..).filter(|m| m["type"] == 1).collect();
        assert!(pending.is_empty(), "unexpected events: {pending:?}");
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            if let Message::Text(text) = message {
                assert!(!text.contains("\"type\":1"), "unexpected event: {text}");
            }
        }
    }

    /// Reads until the server closes; returns the Close hub message, if any.
    pub async fn closed(&mut self) -> Option<Value> {
        let mut close = None;
        while let Ok(Some(Ok(message))) = tokio::time::timeout(WAIT, self.ws.next()).await {
            match message {
                Message::Text(text) => {
                    for record in text.split('\u{1e}').filter(|r| !r.is_empty()) {
                        let value: Value = serde_json::from_str(record).expect("JSON");
                        if value["type"] == 7 {
                            close = Some(value);
                        }
                    }
                }
                Message::Close(_) => return close,
                _ => {}
            }
        }
        close
    }
}

#[derive(Parser)]
struct TasksArgs {
    #[command(flatten)]
    config: pulse_tasks::TasksConfig,
}

#[derive(Parser)]
struct CoachingArgs {
    #[command(flatten)]
    config: pulse_coaching::CoachingConfig,
}

/// The task service on a database of its own, with [`MASTER_KEY`].
async fn start_tasks(
    bus: &Bus,
    stop: &CancellationToken,
    databases: &mut Vec<TestDatabase>,
) -> (SocketAddr, JoinHandle<()>) {
    let database = TestDatabase::create().await;
    let config = TasksArgs::parse_from([
        "tasks",
        "--tasks-addr",
        "127.0.0.1:0",
        "--tasks-database-url",
        &database.url(),
    ])
    .config;
    databases.push(database);
    let app = pulse_tasks::TasksApp::build(
        &config,
        bus.clone(),
        pulse_testkit::EVENT_RETENTION,
        pulse_auth::MasterKey::new(MASTER_KEY),
    )
    .await
    .expect("task service starts");
    let addr = app.local_addr();
    let stop = stop.clone();
    let task = tokio::spawn(async move {
        let _ = app.run_until_stopped(stop).await;
    });
    (addr, task)
}

/// The coaching service on a database of its own.
async fn start_coaching(
    bus: &Bus,
    validator: &JwtValidator,
    stop: &CancellationToken,
    databases: &mut Vec<TestDatabase>,
) -> (SocketAddr, JoinHandle<()>) {
    let database = TestDatabase::create().await;
    let config = CoachingArgs::parse_from([
        "coaching",
        "--coaching-addr",
        "127.0.0.1:0",
        "--coaching-database-url",
        &database.url(),
    ])
    .config;
    databases.push(database);
    let app = pulse_coaching::CoachingApp::build(
        &config,
        bus.clone(),
        pulse_testkit::EVENT_RETENTION,
        validator.clone(),
    )
    .await
    .expect("coaching service starts");
    let addr = app.local_addr();
    let stop = stop.clone();
    let task = tokio::spawn(async move {
        let _ = app.run_until_stopped(stop).await;
    });
    (addr, task)
}
