//! The coaching service in the shell every service shares
//! ([`pulse_service::App`]): its schema, its streams and its gRPC API.

use std::{net::SocketAddr, num::NonZeroU32};

use pulse_auth::JwtValidator;
use pulse_bus::GroupKind;
use pulse_grpc::GrpcServer;
use pulse_outbox::Outbox;
use pulse_proto::coaching::v1::coaching_server::CoachingServer;
use pulse_service::{App, Domain, StartupError};
use secrecy::SecretString;
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{grpc::CoachingService, store::Store, CoachingConfig};

static MIGRATIONS: Migrator = sqlx::migrate!();

/// A built, not yet running, coaching service.
pub type CoachingApp = App<Coaching>;

/// What the coaching service keeps to run.
#[derive(Debug)]
pub struct Coaching {
    validator: JwtValidator,
}

impl Domain for Coaching {
    type Config = CoachingConfig;
    type Credential = JwtValidator;

    const NAME: &'static str = "coaching";
    /// One per kind of user group.
    const STREAMS: &'static [GroupKind] = pulse_proto::coaching::GROUP_KINDS;

    fn migrations() -> &'static Migrator {
        &MIGRATIONS
    }

    fn addr(config: &CoachingConfig) -> SocketAddr {
        config.coaching_addr
    }

    fn database(config: &CoachingConfig) -> (&SecretString, NonZeroU32) {
        (
            &config.coaching_database_url,
            config.coaching_db_max_connections,
        )
    }

    fn new(_config: &CoachingConfig, validator: JwtValidator) -> Result<Self, StartupError> {
        Ok(Self { validator })
    }

    fn serve(self, outbox: Outbox, _stop: &CancellationToken) -> (GrpcServer, Vec<JoinHandle<()>>) {
        let store = Store::new(outbox);
        let server = GrpcServer::new().add_service(CoachingServer::new(CoachingService::new(
            store,
            self.validator,
        )));
        (server, Vec::new())
    }
}
