//! The shopping-list service in the shell every service shares
//! ([`pulse_service::App`]): its schema, its stream, its gRPC API and the
//! presence sweeper that runs beside it.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use pulse_auth::JwtValidator;
use pulse_bus::GroupKind;
use pulse_grpc::GrpcServer;
use pulse_outbox::Outbox;
use pulse_proto::lists::v1::shopping_lists_server::ShoppingListsServer;
use pulse_service::{App, Domain, StartupError};
use secrecy::SecretString;
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{grpc::ListsService, store::Store, ListsConfig};

static MIGRATIONS: Migrator = sqlx::migrate!();

/// A built, not yet running, shopping-list service.
pub type ListsApp = App<Lists>;

/// What the shopping-list service keeps to run.
#[derive(Debug)]
pub struct Lists {
    validator: JwtValidator,
    presence_timeout: Duration,
    presence_sweep_interval: Duration,
}

impl Domain for Lists {
    type Config = ListsConfig;
    type Credential = JwtValidator;

    const NAME: &'static str = "lists";
    const STREAMS: &'static [GroupKind] = pulse_proto::lists::GROUP_KINDS;

    fn migrations() -> &'static Migrator {
        &MIGRATIONS
    }

    fn addr(config: &ListsConfig) -> SocketAddr {
        config.lists_addr
    }

    fn database(config: &ListsConfig) -> (&SecretString, NonZeroU32) {
        (&config.database_url, config.db_max_connections)
    }

    fn new(config: &ListsConfig, validator: JwtValidator) -> Result<Self, StartupError> {
        if config.presence_sweep_interval.is_zero() {
            return Err(StartupError::Config(
                "presence sweep interval must be greater than zero".into(),
            ));
        }
        Ok(Self {
            validator,
            presence_timeout: config.presence_timeout,
            presence_sweep_interval: config.presence_sweep_interval,
        })
    }

    fn serve(self, outbox: Outbox, stop: &CancellationToken) -> (GrpcServer, Vec<JoinHandle<()>>) {
        let store = Store::new(outbox);
        let sweeper = tokio::spawn(pulse_presence::sweep_every(
            store.clone(),
            self.presence_timeout,
            self.presence_sweep_interval,
            stop.clone(),
        ));
        let server = GrpcServer::new().add_service(ShoppingListsServer::new(ListsService::new(
            store,
            self.validator,
        )));
        (server, vec![sweeper])
    }
}
