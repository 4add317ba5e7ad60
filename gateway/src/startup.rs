//! Building and running the gateway: bind (port 0 allowed), report the
//! address, serve until cancelled, then close every connection cleanly.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use pulse_auth::JwtValidator;
use pulse_bus::Bus;
use pulse_proto::tasks::v1::virtual_keys_client::VirtualKeysClient;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tonic::transport::{Channel, Endpoint};

use pulse_grpc::GrpcServer;
use pulse_proto::gateway::v1::subscriptions_server::SubscriptionsServer;

use crate::{
    config::GatewayConfig,
    hub::{upstreams, Channels, Presence, RateLimits, Services, Undeclared, TASKS},
    node::{Node, OpenCount, Revocations},
    principal::Authenticator,
    session::{CloseSchedule, Registry},
    streams::SubscriptionService,
    transport::{
        metrics_source, router, serve, AppState, Demo, DemoRefused, Forwarding, ListenLimits,
    },
};

/// The gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid service URL {url}: {source}")]
    ServiceUrl {
        url: String,
        source: tonic::transport::Error,
    },
    #[error(transparent)]
    Undeclared(#[from] Undeclared),
    #[error(transparent)]
    Demo(#[from] DemoRefused),
}

/// A subscribe request names groups; anything larger is not one.
const MAX_SUBSCRIBE_REQUEST_BYTES: usize = 64 * 1024;

/// How long connections get to flush their Close at shutdown, after the drain period.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long, at most, a stopping gateway waits for long-polling clients to take their Close
/// (and for its answers to other gateways), within the grace.
const LAST_POLL_WAIT: Duration = Duration::from_secs(2);

pub struct GatewayApp {
    listener: TcpListener,
    /// The gRPC subscription API for native clients.
    grpc_listener: TcpListener,
    subscriptions: SubscriptionService,
    state: AppState,
    cors_origins: Vec<String>,
    disconnect_timeout: Duration,
    /// How long the closes of SignalR connections are spread over at shutdown.
    drain_period: Duration,
    /// How often the reaper looks for connections past the disconnect timeout.
    reap_interval: Duration,
    listen: ListenLimits,
}

/// The gateway's two listeners, bound before the process opens any outgoing
/// connection: the ports are fixed by configuration, and an outgoing
/// connection opened first could be handed one of them by the kernel.
#[derive(Debug)]
pub struct GatewayListeners {
    /// SignalR over HTTP (negotiate, WebSockets, SSE, long polling).
    pub http: TcpListener,
    /// The gRPC subscription API.
    pub grpc: TcpListener,
}

impl GatewayListeners {
    /// Binds `gateway_addr` and `gateway_grpc_addr` (port 0 allowed).
    pub async fn bind(config: &GatewayConfig) -> Result<Self, StartupError> {
        Ok(Self {
            http: bind(config.gateway_addr).await?,
            grpc: bind(config.gateway_grpc_addr).await?,
        })
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })
}

impl GatewayApp {
    /// Binds the configured addresses, then builds on them (see
    /// [`GatewayApp::build_on`]).
    pub async fn build(
        config: &GatewayConfig,
        bus: Bus,
        validator: JwtValidator,
    ) -> Result<Self, StartupError> {
        let listeners = GatewayListeners::bind(config).await?;
        Self::build_on(listeners, config, bus, validator).await
    }

    /// Builds the gateway to serve on `listeners`, bound by the caller
    /// before it connected to the bus.
    pub async fn build_on(
        listeners: GatewayListeners,
        config: &GatewayConfig,
        bus: Bus,
        validator: JwtValidator,
    ) -> Result<Self, StartupError> {
        let channels = connect_lazily(config)?;
        let demo = if config.demo {
            tracing::warn!(
                "demo sign-in is on: anyone who reaches the gateway can sign in as anyone"
            );
            Some(Demo::new(
                validator.clone(),
                channels.clone(),
                config.master_key.clone(),
            )?)
        } else {
            None
        };
        let GatewayListeners {
            http: listener,
            grpc: grpc_listener,
        } = listeners;
        let shutdown = CancellationToken::new();
        let revocations = Arc::new(Revocations::default());
        let presence = Presence::start(
            &channels,
            config.participant_heartbeat_interval,
            config.presence_retry_delay,
            shutdown.clone(),
        )?;
        let key_checks = VirtualKeysClient::new(channels.get(&TASKS)?);
        let registry = Arc::new(Registry::new(config.registry_limits()));
        let forwarding = Arc::new(Forwarding::new(
            bus.clone(),
            registry.issuer().clone(),
            config.long_poll_timeout,
        ));
        let mut state = AppState {
            registry,
            forwarding,
            services: Arc::new(Services {
                node: Arc::new(Node::new(
                    bus.clone(),
                    shutdown.clone(),
                    config.bus_retry_delay,
                )),
                channels,
                revocations: revocations.clone(),
                presence,
                rate_limits: Arc::new(RateLimits::new(config.rate_limits())),
                max_groups_per_connection: config.max_groups_per_connection,
            }),
            authenticator: Authenticator::new(
                validator,
                config.master_key.clone(),
                key_checks,
                config.key_cache(),
                revocations,
            ),
            session: config.session(),
            shutdown,
            close_schedule: Arc::new(CloseSchedule::new(config.drain_period)),
            connections: TaskTracker::new(),
            max_frame_bytes: config.max_message_size.max(64 * 1024) * 4,
            poll_timeout: config.long_poll_timeout,
            write_stall_timeout: config.write_stall_timeout,
            stateful_reconnect: config.stateful_reconnect,
            grpc_streams: OpenCount::default(),
            waiting_polls: OpenCount::default(),
            demo,
            session_metrics: Arc::default(),
        };
        let subscriptions = SubscriptionService::new(
            Services::clone(&state.services),
            bus.clone(),
            state.authenticator.clone(),
            config.streams(),
            state.shutdown.clone(),
            state.close_schedule.clone(),
        );
        state.grpc_streams = subscriptions.open_streams();
        state
            .services
            .revocations
            .follow(bus, config.bus_retry_delay, state.shutdown.clone());
        Ok(Self {
            listener,
            grpc_listener,
            subscriptions,
            state,
            cors_origins: config.cors_origins.clone(),
            disconnect_timeout: config.disconnect_timeout,
            drain_period: config.drain_period,
            reap_interval: config.reap_interval,
            listen: config.listen(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where the gRPC subscription API listens.
    pub fn grpc_local_addr(&self) -> SocketAddr {
        self.grpc_listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The node, shared with the gateway once it runs: its `stats()` show the groups and
    /// members it holds, so tests can check that clients gone leave none behind.
    pub fn node(&self) -> Arc<Node> {
        self.state.services.node.clone()
    }

    /// Counts the calls the gateway made to the task service to check a virtual key (each
    /// one counted where it is sent), so tests can see what the key cache saves.
    pub fn virtual_key_checks(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let authenticator = self.state.authenticator.clone();
        move || authenticator.key_checks()
    }

    /// Counts the SignalR connections negotiated and not yet over, readable while the gateway
    /// runs (`run_until_stopped` takes the app), so tests can check that a dropped client's
    /// connection ends.
    pub fn connection_count(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let registry = self.state.registry.clone();
        move || registry.len()
    }

    /// Counts the long polls waiting for something to send, so tests can act once a poll is
    /// pending (to supersede or end it) instead of guessing how long its request takes.
    pub fn waiting_polls(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let polls = self.state.waiting_polls.clone();
        move || polls.get()
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> std::io::Result<()> {
        let state = self.state;
        let grpc = tokio::spawn(
            GrpcServer::new()
                .add_service(
                    SubscriptionsServer::new(self.subscriptions)
                        .max_decoding_message_size(MAX_SUBSCRIBE_REQUEST_BYTES),
                )
                .export_metrics_as("gateway-subscriptions")
                .serve(self.grpc_listener, stop.clone().cancelled_owned()),
        );
        let reaper = tokio::spawn(reap(
            state.registry.clone(),
            self.disconnect_timeout,
            self.reap_interval,
            stop.clone(),
        ));
        state
            .forwarding
            .serve_issued(state.clone(), stop.clone())
            .await;
        let _exported = pulse_telemetry::export_metrics("gateway", metrics_source(state.clone()));
        let app = router(state.clone(), &self.cors_origins);
        // The listener answers on while the connections close: readiness says 503, a new
        // connection is refused (503), and a long poll can still take its Close.
        let drained = {
            let stop = stop.clone();
            let shutdown = state.shutdown.clone();
            let close_schedule = state.close_schedule.clone();
            let open = state.connections.clone();
            let streams = state.grpc_streams.clone();
            let registry = state.registry.clone();
            let forwarding = state.forwarding.clone();
            let grace = self.drain_period + SHUTDOWN_GRACE;
            async move {
                stop.cancelled().await;
                close_schedule.start(open.len() + streams.get());
                shutdown.cancel();
                open.close();
                let deadline = tokio::time::Instant::now() + grace;
                if tokio::time::timeout_at(deadline, open.wait())
                    .await
                    .is_err()
                {
                    tracing::warn!("connections still open after the shutdown grace period");
                }
                // A long-polling connection that ended keeps its Close for the client's next
                // poll (which may reach this gateway through another one). A client that
                // polls comes back at once; one that does not is not waited for long.
                let last_polls = deadline.min(tokio::time::Instant::now() + LAST_POLL_WAIT);
                let _ = tokio::time::timeout_at(last_polls, registry.until_no_connection()).await;
                // Last, the answers other gateways wait for (a forwarded DELETE, say).
                if tokio::time::timeout(LAST_POLL_WAIT, forwarding.finish())
                    .await
                    .is_err()
                {
                    tracing::warn!("answers to other gateways still pending at exit");
                }
            }
        };
        serve(self.listener, app, self.listen, drained).await;
        reaper.abort();
        match grpc.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "subscription API failed"),
            Err(error) => tracing::error!(%error, "subscription API task failed"),
        }
        Ok(())
    }
}

/// A channel to each domain service the hubs call (see [`upstreams`]).
fn connect_lazily(config: &GatewayConfig) -> Result<Channels, StartupError> {
    let channels = upstreams()
        .into_iter()
        .map(|upstream| {
            let url = config.services.url(upstream);
            Ok((upstream.name, service_channel(url, config.service_timeout)?))
        })
        .collect::<Result<_, StartupError>>()?;
    Ok(Channels::new(channels))
}

/// A lazily connected channel to a domain service: the gateway starts (and
/// serves what it can) while a service is still coming up.
fn service_channel(url: &str, timeout: Duration) -> Result<Channel, StartupError> {
    Ok(Endpoint::from_shared(url.to_owned())
        .map_err(|source| StartupError::ServiceUrl {
            url: url.to_owned(),
            source,
        })?
        .timeout(timeout)
        .connect_lazy())
}

/// Removes negotiated connections no transport took and ends connections no
/// transport served for the disconnect timeout, every `interval` (ASP.NET Core
/// looks once a second).
async fn reap(
    registry: Arc<Registry>,
    timeout: Duration,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {
                let reaped = registry.reap(timeout);
                if reaped > 0 {
                    tracing::debug!(reaped, "unused or abandoned connections dropped");
                }
            }
        }
    }
}
