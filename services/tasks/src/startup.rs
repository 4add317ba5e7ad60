//! The task-notification service in the shell every service shares
//! ([`pulse_service::App`]): its schema, its streams, its three gRPC APIs
//! and the spend aggregator that runs beside them.

use std::{net::SocketAddr, num::NonZeroU32};

use pulse_auth::MasterKey;
use pulse_bus::GroupKind;
use pulse_grpc::GrpcServer;
use pulse_outbox::Outbox;
use pulse_proto::tasks::v1::{
    producers_server::ProducersServer, tasks_server::TasksServer,
    virtual_keys_server::VirtualKeysServer,
};
use pulse_service::{App, Domain, StartupError};
use secrecy::SecretString;
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::aggregator::{self, SpendSettings};
use crate::{grpc::TasksService, store::Store, TasksConfig};

static MIGRATIONS: Migrator = sqlx::migrate!();

/// A built, not yet running, task-notification service. Without a master
/// key every master-key call is refused.
pub type TasksApp = App<Tasks>;

/// What the task-notification service keeps to run.
#[derive(Debug)]
pub struct Tasks {
    master_key: Option<MasterKey>,
    spend: SpendSettings,
}

impl Domain for Tasks {
    type Config = TasksConfig;
    type Credential = Option<MasterKey>;

    const NAME: &'static str = "tasks";
    /// One per kind of group of CONTRACT §3.4, and the gateways'
    /// revocation feed.
    const STREAMS: &'static [GroupKind] = pulse_proto::tasks::GROUP_KINDS;

    fn migrations() -> &'static Migrator {
        &MIGRATIONS
    }

    fn addr(config: &TasksConfig) -> SocketAddr {
        config.tasks_addr
    }

    fn database(config: &TasksConfig) -> (&SecretString, NonZeroU32) {
        (&config.tasks_database_url, config.tasks_db_max_connections)
    }

    fn new(config: &TasksConfig, master_key: Option<MasterKey>) -> Result<Self, StartupError> {
        Ok(Self {
            master_key,
            spend: spend_settings(config)?,
        })
    }

    /// Events still in the outbox and spend not yet aggregated stay in the
    /// database for the next start.
    fn serve(self, outbox: Outbox, stop: &CancellationToken) -> (GrpcServer, Vec<JoinHandle<()>>) {
        let store = Store::new(outbox);
        let aggregator = tokio::spawn(aggregator::run(store.clone(), self.spend, stop.clone()));
        let service = TasksService::new(store, self.master_key);
        let server = GrpcServer::new()
            .add_service(VirtualKeysServer::new(service.clone()))
            .add_service(TasksServer::new(service.clone()))
            .add_service(ProducersServer::new(service));
        (server, vec![aggregator])
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
