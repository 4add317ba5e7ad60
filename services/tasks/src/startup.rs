//! Building the service (database, migrations, listener) and running it
//! (gRPC server, outbox relay, spend aggregator) until told to stop. The
//! parts every service shares are in `pulse-service`.

use std::{net::SocketAddr, time::Duration};

use pulse_auth::MasterKey;
use pulse_bus::{Bus, StreamKind};
use pulse_grpc::GrpcServer;
use pulse_outbox::RelayConfig;
use pulse_proto::tasks::v1::{
    producers_server::ProducersServer, tasks_server::TasksServer,
    virtual_keys_server::VirtualKeysServer,
};
use pulse_service::{CoreConfig, RunError, ServiceCore, StartupError};
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::aggregator::{self, SpendSettings};
use crate::{grpc::TasksService, store::Store, TasksConfig};

static MIGRATIONS: Migrator = sqlx::migrate!();

/// The streams this service publishes into: one per kind of group of
/// CONTRACT §3.4, and the gateways' revocation feed.
const STREAMS: [StreamKind; 9] = [
    StreamKind::Video,
    StreamKind::Image,
    StreamKind::Task,
    StreamKind::Spend,
    StreamKind::Webhooks,
    StreamKind::Navigation,
    StreamKind::System,
    StreamKind::Admin,
    StreamKind::KeyRevocations,
];

/// A built, not yet running, task-notification service: the database is
/// migrated and the listener bound, so [`TasksApp::local_addr`] is final.
#[derive(Debug)]
pub struct TasksApp {
    core: ServiceCore,
    master_key: Option<MasterKey>,
    spend: SpendSettings,
}

impl TasksApp {
    /// Binds the configured address, then builds on it (see
    /// [`TasksApp::build_on`]): for tests and embedders that open no
    /// connection of their own before.
    pub async fn build(
        config: &TasksConfig,
        bus: Bus,
        event_retention: Duration,
        master_key: Option<MasterKey>,
    ) -> Result<Self, StartupError> {
        let listener = pulse_service::bind(config.tasks_addr).await?;
        Self::build_on(listener, config, bus, event_retention, master_key).await
    }

    /// Creates the database if missing, migrates it and prepares the outbox tables,
    /// to serve on `listener`: bound by the caller before it opened any outgoing
    /// connection (see [`pulse_service::bind`]). Takes the bus, how long its
    /// streams keep events (`--event-retention`) and the master key as arguments,
    /// so one process can share them between several services and no caller can
    /// leave the retention at a default by forgetting it; without a master key
    /// every master-key call is refused.
    pub async fn build_on(
        listener: TcpListener,
        config: &TasksConfig,
        bus: Bus,
        event_retention: Duration,
        master_key: Option<MasterKey>,
    ) -> Result<Self, StartupError> {
        let spend = spend_settings(config)?;
        let core = ServiceCore::build(
            CoreConfig {
                name: "tasks",
                database_url: &config.tasks_database_url,
                db_max_connections: config.tasks_db_max_connections,
            },
            listener,
            &MIGRATIONS,
            bus,
            RelayConfig::new(STREAMS.to_vec(), event_retention),
        )
        .await?;
        Ok(Self {
            core,
            master_key,
            spend,
        })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.core.local_addr()
    }

    /// Serves the three gRPC services and runs the outbox relay and the spend
    /// aggregator until `shutdown` is cancelled (or the server fails, which
    /// stops the rest). Events still in the outbox and spend not yet
    /// aggregated stay in the database for the next start.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), RunError> {
        let stop = shutdown.child_token();
        let store = Store::new(self.core.outbox().clone());
        let aggregator = tokio::spawn(aggregator::run(store.clone(), self.spend, stop.clone()));
        let service = TasksService::new(store, self.master_key);
        let server = GrpcServer::new()
            .add_service(VirtualKeysServer::new(service.clone()))
            .add_service(TasksServer::new(service.clone()))
            .add_service(ProducersServer::new(service));
        self.core.serve(server, vec![aggregator], stop).await
    }
}

/// The spend settings, checked: a zero interval would spin, a zero window
/// would announce every record alone, and a factor that is not a positive
/// number would make every window (or none) unusual.
fn spend_settings(config: &TasksConfig) -> Result<SpendSettings, StartupError> {
    if config.spend_window.is_zero() {
        return Err(StartupError::Config(
            "spend window must be greater than zero".into(),
        ));
    }
    if config.spend_aggregation_interval.is_zero() {
        return Err(StartupError::Config(
            "spend aggregation interval must be greater than zero".into(),
        ));
    }
    if !(config.unusual_spend_factor.is_finite() && config.unusual_spend_factor > 0.0) {
        return Err(StartupError::Config(
            "unusual spend factor must be a number greater than zero".into(),
        ));
    }
    Ok(SpendSettings {
        window: config.spend_window,
        interval: config.spend_aggregation_interval,
        unusual_factor: config.unusual_spend_factor,
    })
}
