//! Building the service (database, migrations, listener) and running it
//! (gRPC server and outbox relay) until told to stop. The parts every
//! service shares are in `pulse-service`.

use std::{net::SocketAddr, time::Duration};

use pulse_auth::JwtValidator;
use pulse_bus::{Bus, StreamKind};
use pulse_grpc::GrpcServer;
use pulse_outbox::RelayConfig;
use pulse_proto::coaching::v1::coaching_server::CoachingServer;
use pulse_service::{CoreConfig, RunError, ServiceCore, StartupError};
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{grpc::CoachingService, store::Store, CoachingConfig};

static MIGRATIONS: Migrator = sqlx::migrate!();

/// The streams this service publishes into: one per kind of user group.
const STREAMS: [StreamKind; 3] = [
    StreamKind::Chat,
    StreamKind::Goals,
    StreamKind::Notifications,
];

/// A built, not yet running, coaching service: the database is migrated and
/// the listener bound, so [`CoachingApp::local_addr`] is final.
#[derive(Debug)]
pub struct CoachingApp {
    core: ServiceCore,
    validator: JwtValidator,
}

impl CoachingApp {
    /// Binds the configured address, then builds on it (see
    /// [`CoachingApp::build_on`]): for tests and embedders that open no
    /// connection of their own before.
    pub async fn build(
        config: &CoachingConfig,
        bus: Bus,
        event_retention: Duration,
        validator: JwtValidator,
    ) -> Result<Self, StartupError> {
        let listener = pulse_service::bind(config.coaching_addr).await?;
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
        config: &CoachingConfig,
        bus: Bus,
        event_retention: Duration,
        validator: JwtValidator,
    ) -> Result<Self, StartupError> {
        let core = ServiceCore::build(
            CoreConfig {
                name: "coaching",
                database_url: &config.coaching_database_url,
                db_max_connections: config.coaching_db_max_connections,
            },
            listener,
            &MIGRATIONS,
            bus,
            RelayConfig::new(STREAMS.to_vec(), event_retention),
        )
        .await?;
        Ok(Self { core, validator })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.core.local_addr()
    }

    /// Serves gRPC and runs the outbox relay until `shutdown` is cancelled
    /// (or the server fails, which stops the relay). Events still in the
    /// outbox stay there for the next start.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), RunError> {
        let stop = shutdown.child_token();
        let store = Store::new(self.core.outbox().clone());
        let server = GrpcServer::new().add_service(CoachingServer::new(CoachingService::new(
            store,
            self.validator,
        )));
        self.core.serve(server, Vec::new(), stop).await
    }
}
