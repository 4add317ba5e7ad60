//! The shopping-list service in the shell every service shares
//! ([`pulse_service::App`]): its schema, its stream, its gRPC API and the
//! presence sweeper that runs beside it.

use std::{net::SocketAddr, num::NonZeroU32};

use pulse_auth::JwtValidator;
use pulse_bus::GroupKind;
use pulse_grpc::GrpcServer;
use pulse_outbox::Outbox;
use pulse_presence::Sweeper;
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
    sweeper: Sweeper,
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
        Ok(Self {
            validator,
            sweeper: Sweeper::new(
                config.presence_timeout,
                config.presence_sweep_interval,
                "presence",
            )?,
        })
    }

    fn serve(self, outbox: Outbox, stop: &CancellationToken) -> (GrpcServer, Vec<JoinHandle<()>>) {
        let store = Store::new(outbox);
        let sweeper = self.sweeper.spawn(store.clone(), stop);
        let server = GrpcServer::new().add_service(ShoppingListsServer::new(ListsService::new(
            store,
            self.validator,
        )));
        (server, vec![sweeper])
    }
}
