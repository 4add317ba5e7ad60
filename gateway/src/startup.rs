//! Building and running the gateway: bind (port 0 allowed), report the
//! address, serve until cancelled, then close every connection cleanly.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use pulse_auth::JwtValidator;
use pulse_bus::Bus;
use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tonic::transport::Endpoint;

use crate::{
    config::GatewayConfig,
    hub::Services,
    node::Node,
    session::Registry,
    transport::{router, AppState},
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
}

/// How long connections get to flush their Close at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub struct GatewayApp {
    listener: TcpListener,
    state: AppState,
    cors_origins: Vec<String>,
    disconnect_timeout: Duration,
}

impl GatewayApp {
    pub async fn build(
        config: &GatewayConfig,
        bus: Bus,
        validator: JwtValidator,
    ) -> Result<Self, StartupError> {
        let lists = Endpoint::from_shared(config.lists_url.clone())
            .map_err(|source| StartupError::ServiceUrl {
                url: config.lists_url.clone(),
                source,
            })?
            .timeout(config.service_timeout)
            .connect_lazy();
        let listener = TcpListener::bind(config.gateway_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.gateway_addr,
                source,
            })?;
        let shutdown = CancellationToken::new();
        let state = AppState {
            registry: Arc::new(Registry::default()),
            services: Services {
                node: Arc::new(Node::new(bus, shutdown.clone())),
                lists: ShoppingListsClient::new(lists),
            },
            validator,
            session: config.session(),
            shutdown,
            connections: TaskTracker::new(),
            max_frame_bytes: config.max_message_size.max(64 * 1024) * 4,
        };
        Ok(Self {
            listener,
            state,
            cors_origins: config.cors_origins.clone(),
            disconnect_timeout: config.disconnect_timeout,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> std::io::Result<()> {
        let state = self.state;
        let reaper = tokio::spawn(reap(
            state.registry.clone(),
            self.disconnect_timeout,
            stop.clone(),
        ));
        let app = router(state.clone(), &self.cors_origins);
        let connections_closed = {
            let stop = stop.clone();
            let shutdown = state.shutdown.clone();
            async move {
                stop.cancelled().await;
                shutdown.cancel();
            }
        };
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(connections_closed)
            .await;
        state.connections.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, state.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the shutdown grace period");
        }
        reaper.abort();
        served
    }
}

/// Removes negotiated connections no transport took (once a second, as
/// ASP.NET Core does).
async fn reap(registry: Arc<Registry>, timeout: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {
                let reaped = registry.reap(timeout);
                if reaped > 0 {
                    tracing::debug!(reaped, "unused negotiations dropped");
                }
            }
        }
    }
}
