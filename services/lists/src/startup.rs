//! Building the service (database, migrations, listener) and running it
//! (gRPC server, outbox relay, presence sweeper) until told to stop. The
//! parts every service shares are in `pulse-service`.

use std::{net::SocketAddr, time::Duration};

use pulse_auth::JwtValidator;
use pulse_bus::{Bus, StreamKind};
use pulse_grpc::GrpcServer;
use pulse_outbox::RelayConfig;
use pulse_proto::lists::v1::shopping_lists_server::ShoppingListsServer;
use pulse_service::{CoreConfig, RunError, ServiceCore, StartupError};
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{grpc::ListsService, store::Store, sweeper, ListsConfig};

static MIGRATIONS: Migrator = sqlx::migrate!();

/// A built, not yet running, shopping-list service: the database is migrated
/// and the listener bound, so [`ListsApp::local_addr`] is final.
#[derive(Debug)]
pub struct ListsApp {
    core: ServiceCore,
    validator: JwtValidator,
    presence_timeout: Duration,
    presence_sweep_interval: Duration,
}

impl ListsApp {
    /// Binds the configured address, then builds on it (see
    /// [`ListsApp::build_on`]): for tests and embedders that open no
    /// connection of their own before.
    pub async fn build(
        config: &ListsConfig,
        bus: Bus,
        event_retention: Duration,
        validator: JwtValidator,
    ) -> Result<Self, StartupError> {
        let listener = pulse_service::bind(config.lists_addr).await?;
        Self::build_on(listener, config, bus, event_retention, validator).await
    }

    /// Creates the database if missing, migrates it and prepares the outbox tables,
    /// to serve on `listener`: bound by the caller before it opened any outgoing
    /// connection (see [`pulse_service::bind`]). Takes the bus, how long its
    /// streams keep events (`--event-retention`) and the validator as arguments, so
    /// one process can share them between several services and no caller can leave
    /// the retention at a default by forgetting it.
    pub async fn build_on(
        listener: TcpListener,
        config: &ListsConfig,
        bus: Bus,
        event_retention: Duration,
        validator: JwtValidator,
    ) -> Result<Self, StartupError> {
        if config.presence_sweep_interval.is_zero() {
            return Err(StartupError::Config(
                "presence sweep interval must be greater than zero".into(),
            ));
        }
        let core = ServiceCore::build(
            CoreConfig {
                name: "lists",
                database_url: &config.database_url,
                db_max_connections: config.db_max_connections,
            },
            listener,
            &MIGRATIONS,
            bus,
            RelayConfig::new(vec![StreamKind::Lists], event_retention),
        )
        .await?;
        Ok(Self {
            core,
            validator,
            presence_timeout: config.presence_timeout,
            presence_sweep_interval: config.presence_sweep_interval,
        })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.core.local_addr()
    }

    /// Serves gRPC and runs the outbox relay and the presence sweeper until
    /// `shutdown` is cancelled (or the server fails, which stops the rest).
    /// Events still in the outbox stay there for the next start.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), RunError> {
        let stop = shutdown.child_token();
        let store = Store::new(self.core.outbox().clone());
        let sweeper = tokio::spawn(sweeper::run(
            store.clone(),
            self.presence_timeout,
            self.presence_sweep_interval,
            stop.clone(),
        ));
        let server = GrpcServer::new().add_service(ShoppingListsServer::new(ListsService::new(
            store,
            self.validator,
        )));
        self.core.serve(server, vec![sweeper], stop).await
    }
}
