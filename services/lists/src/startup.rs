//! Building the service (database, migrations, listener) and running it
//! (gRPC server, outbox relay, presence sweeper) until told to stop.

use std::{net::SocketAddr, time::Duration};

use pulse_auth::JwtValidator;
use pulse_bus::{Bus, StreamKind};
use pulse_grpc::GrpcServer;
use pulse_outbox::{Relay, RelayConfig};
use pulse_proto::lists::v1::shopping_lists_server::ShoppingListsServer;
use secrecy::ExposeSecret;
use sqlx::{migrate::MigrateDatabase, postgres::PgPoolOptions, PgPool, Postgres};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{grpc::ListsService, store::Store, sweeper, ListsConfig};

/// Why the service could not start.
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

/// Why the running service stopped other than by request.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
    #[error("background task panicked: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A built, not yet running, shopping-list service: the database is migrated
/// and the listener bound, so [`ListsApp::local_addr`] is final.
#[derive(Debug)]
pub struct ListsApp {
    listener: TcpListener,
    pool: PgPool,
    bus: Bus,
    validator: JwtValidator,
    presence_timeout: Duration,
    presence_sweep_interval: Duration,
    event_retention: Duration,
}

impl ListsApp {
    /// Creates the database if missing, migrates it, prepares the outbox
    /// tables and binds the listener. Takes the bus and validator already
    /// built, so one process can share them between several services.
    pub async fn build(
        config: &ListsConfig,
        bus: Bus,
        validator: JwtValidator,
    ) -> Result<ListsApp, StartupError> {
        if config.presence_sweep_interval.is_zero() {
            return Err(StartupError::Config(
                "presence sweep interval must be greater than zero".into(),
            ));
        }
        let url = config.database_url.expose_secret();
        create_database_if_missing(url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections.get())
            .connect(url)
            .await?;
        sqlx::migrate!().run(&pool).await?;
        pulse_outbox::ensure_schema(&pool).await?;
        let listener = TcpListener::bind(config.lists_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.lists_addr,
                source,
            })?;
        Ok(ListsApp {
            listener,
            pool,
            bus,
            validator,
            presence_timeout: config.presence_timeout,
            presence_sweep_interval: config.presence_sweep_interval,
            event_retention: config.event_retention,
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

    /// Serves gRPC and runs the outbox relay and the presence sweeper until
    /// `shutdown` is cancelled (or the server fails, which stops the rest).
    /// Events still in the outbox stay there for the next start.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), RunError> {
        let addr = self.local_addr();
        let stop = shutdown.child_token();
        let store = Store::new(self.pool.clone());
        let relay_config = RelayConfig::new(vec![StreamKind::Lists], self.event_retention);
        let relay =
            tokio::spawn(Relay::new(self.pool.clone(), self.bus, relay_config).run(stop.clone()));
        let sweeper = tokio::spawn(sweeper::run(
            store.clone(),
            self.presence_timeout,
            self.presence_sweep_interval,
            stop.clone(),
        ));
        tracing::info!(%addr, "shopping-list service listening");
        let served = GrpcServer::new()
            .add_service(ShoppingListsServer::new(ListsService::new(
                store,
                self.validator,
            )))
            .serve(self.listener, stop.clone().cancelled_owned())
            .await;
        stop.cancel();
        let relay_result = relay.await;
        let sweeper_result = sweeper.await;
        // Closing (not just dropping) the pool ends the relay's session and
        // with it the advisory lock, so the next instance can take over at once.
        self.pool.close().await;
        tracing::info!(%addr, "shopping-list service stopped");
        served?;
        relay_result?;
        sweeper_result?;
        Ok(())
    }
}

/// Creates the database on first start. Two instances starting together may
/// both try; the loser's "already exists" is fine.
async fn create_database_if_missing(url: &str) -> Result<(), sqlx::Error> {
    if Postgres::database_exists(url).await? {
        return Ok(());
    }
    match Postgres::create_database(url).await {
        Ok(()) => Ok(()),
        Err(error) if Postgres::database_exists(url).await.unwrap_or(false) => {
            tracing::debug!(%error, "database created concurrently");
            Ok(())
        }
        Err(error) => Err(error),
    }
}
