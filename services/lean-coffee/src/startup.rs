//! The Lean Coffee service in the shell every service shares
//! ([`pulse_service::App`]): its schema, its stream, its gRPC API and the
//! participant sweeper that runs beside it.

use std::{net::SocketAddr, num::NonZeroU32};

use pulse_auth::JwtValidator;
use pulse_bus::GroupKind;
use pulse_grpc::GrpcServer;
use pulse_outbox::Outbox;
use pulse_presence::Sweeper;
use pulse_proto::leancoffee::v1::lean_coffee_server::LeanCoffeeServer;
use pulse_service::{App, Domain, StartupError};
use secrecy::SecretString;
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{grpc::LeanCoffeeService, store::Store, LeanCoffeeConfig};

static MIGRATIONS: Migrator = sqlx::migrate!();

/// A built, not yet running, Lean Coffee service.
pub type LeanCoffeeApp = App<LeanCoffee>;

/// What the Lean Coffee service keeps to run.
#[derive(Debug)]
pub struct LeanCoffee {
    validator: JwtValidator,
    sweeper: Sweeper,
}

impl Domain for LeanCoffee {
    type Config = LeanCoffeeConfig;
    type Credential = JwtValidator;

    const NAME: &'static str = "lean-coffee";
    const STREAMS: &'static [GroupKind] = pulse_proto::leancoffee::GROUP_KINDS;

    fn migrations() -> &'static Migrator {
        &MIGRATIONS
    }

    fn addr(config: &LeanCoffeeConfig) -> SocketAddr {
        config.lean_coffee_addr
    }

    fn database(config: &LeanCoffeeConfig) -> (&SecretString, NonZeroU32) {
        (
            &config.lean_coffee_database_url,
            config.lean_coffee_db_max_connections,
        )
    }

    fn new(config: &LeanCoffeeConfig, validator: JwtValidator) -> Result<Self, StartupError> {
        Ok(Self {
            validator,
            sweeper: Sweeper::new(
                config.participant_timeout,
                config.participant_sweep_interval,
                "participant",
            )?,
        })
    }

    fn serve(self, outbox: Outbox, stop: &CancellationToken) -> (GrpcServer, Vec<JoinHandle<()>>) {
        let store = Store::new(outbox);
        let sweeper = self.sweeper.spawn(store.clone(), stop);
        let server = GrpcServer::new().add_service(LeanCoffeeServer::new(LeanCoffeeService::new(
            store,
            self.validator,
        )));
        (server, vec![sweeper])
    }
}
