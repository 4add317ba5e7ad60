//! Binding a service's listener, building its shared parts (database,
//! outbox) and running them with the service's own gRPC API and background
//! tasks.

use std::{net::SocketAddr, num::NonZeroU32, sync::Arc, time::Duration};

use pulse_bus::Bus;
use pulse_grpc::GrpcServer;
use pulse_outbox::{Outbox, Relay, RelayConfig};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{migrate::Migrator, postgres::PgPoolOptions, Connection};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::database::create_database_if_missing;

/// A pooled connection used this recently is handed out as it is; one idle longer is pinged
/// first (and replaced if dead). sqlx pings before every acquire by default: one more round
/// trip to PostgreSQL in every command, for connections that were working a moment ago.
/// HikariCP skips the check the same way (`aliveBypassWindowMs`, 500 ms).
const TRUSTED_IDLE: Duration = Duration::from_millis(500);

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("database unavailable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Why a running service stopped other than by request.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
    #[error("background task panicked: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Binds a service's listener. Done before the process opens any outgoing
/// connection: the default ports lie in the kernel's ephemeral range, so a
/// PostgreSQL or NATS connection opened first could be handed the very port
/// the service is configured to listen on ("address in use").
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })
}

/// The settings every service has, under its own flag names.
#[derive(Debug, Clone, Copy)]
pub struct CoreConfig<'a> {
    /// Names the service in logs ("lean-coffee").
    pub name: &'static str,
    pub database_url: &'a SecretString,
    pub db_max_connections: NonZeroU32,
}

/// A service's database, outbox relay and bound listener, built and not yet
/// running.
#[derive(Debug)]
pub struct ServiceCore {
    name: &'static str,
    listener: TcpListener,
    outbox: Outbox,
    bus: Bus,
    relay: RelayConfig,
}

impl ServiceCore {
    /// Creates the database if missing, runs the service's `migrations` and
    /// prepares the outbox tables. The `listener` is bound beforehand (see
    /// [`bind`]) and the bus taken already connected, so one process can
    /// bind every listener first and share the bus between services.
    pub async fn build(
        config: CoreConfig<'_>,
        listener: TcpListener,
        migrations: &Migrator,
        bus: Bus,
        relay: RelayConfig,
    ) -> Result<Self, StartupError> {
        let url = config.database_url.expose_secret();
        create_database_if_missing(url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections.get())
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= TRUSTED_IDLE {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await?;
        migrations.run(&pool).await?;
        pulse_outbox::ensure_schema(&pool).await?;
        Ok(Self {
            name: config.name,
            listener,
            outbox: Outbox::new(pool),
            bus,
            relay,
        })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address; fall back to the
        // unspecified one rather than panic.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The service's database and outbox, for its store.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// How often the relay, while another instance's holds the lock, tries
    /// for it unasked (see [`RelayConfig::standby_retry`]).
    pub fn set_relay_standby_retry(&mut self, retry: Duration) {
        self.relay.standby_retry = retry;
    }

    /// Serves `server`, with the outbox's metrics added to its `GET /metrics`,
    /// and runs the outbox relay until `stop` is cancelled or the server
    /// fails; either way `stop` is cancelled, which must end every task in
    /// `background` (spawned by the service with a clone of `stop`, usually a
    /// child of its shutdown token).
    ///
    /// Stopping hands the relay over without a gap: the server stops
    /// accepting and finishes the calls in flight, the background tasks end,
    /// and only then is the relay stopped, so it publishes every row those
    /// committed before it gives up its lock and wakes a standby replica.
    /// Then the pool closes. Events still in the outbox (NATS down) stay for
    /// the next leader.
    pub async fn serve(
        self,
        server: GrpcServer,
        background: Vec<JoinHandle<()>>,
        stop: CancellationToken,
    ) -> Result<(), RunError> {
        let addr = self.local_addr();
        let name = self.name;
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(
            Relay::new(self.outbox.clone(), self.bus, self.relay).run(relay_stop.clone()),
        );
        tracing::info!(%addr, service = name, "service listening");
        let outbox = self.outbox.clone();
        let served = server
            .export_metrics_as(name)
            .with_metrics(Arc::new(move || {
                let outbox = outbox.clone();
                Box::pin(async move { outbox.metrics_text().await })
            }))
            .serve(self.listener, stop.clone().cancelled_owned())
            .await;
        stop.cancel();
        let mut background_result = Ok(());
        for task in background {
            if let Err(error) = task.await {
                background_result = Err(error);
            }
        }
        relay_stop.cancel();
        let relay_result = relay.await;
        self.outbox.pool().close().await;
        tracing::info!(%addr, service = name, "service stopped");
        served?;
        relay_result?;
        background_result?;
        Ok(())
    }
}
