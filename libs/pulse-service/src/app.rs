//! The service shell: every domain service is an [`App`] of its [`Domain`],
//! built and run the same way — bind, create and migrate the database,
//! prepare the outbox, then serve gRPC beside the outbox relay and the
//! domain's own background tasks until told to stop. A domain declares only
//! what is its own: its name, schema, streams, settings and API.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use pulse_bus::{Bus, GroupKind};
use pulse_grpc::GrpcServer;
use pulse_outbox::{Outbox, RelayConfig};
use secrecy::SecretString;
use sqlx::migrate::Migrator;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::runtime::{bind, CoreConfig, RunError, ServiceCore, StartupError};

/// What one domain adds to the shell.
pub trait Domain: Sized + Send + 'static {
    /// Its settings (`ListsConfig`), under flag names of its own.
    type Config;
    /// What it checks its callers with (a JWT validator, the master key),
    /// given by the process, which may share one between several services.
    type Credential;

    /// Names the service in logs ("lean-coffee").
    const NAME: &'static str;
    /// The streams its outbox relay publishes into: its domain's group
    /// kinds (`pulse_proto::lists::GROUP_KINDS`).
    const STREAMS: &'static [GroupKind];

    /// Its schema, applied at every start.
    fn migrations() -> &'static Migrator;

    /// The address its gRPC API is configured to listen on.
    fn addr(config: &Self::Config) -> SocketAddr;

    /// Its database and how many connections its pool holds at most.
    fn database(config: &Self::Config) -> (&SecretString, NonZeroU32);

    /// Checks its own settings (before anything is opened) and keeps what
    /// it needs to run.
    fn new(config: &Self::Config, credential: Self::Credential) -> Result<Self, StartupError>;

    /// Its gRPC API on the service's outbox (which holds the database
    /// pool), and the background tasks it runs beside it, each spawned with
    /// `stop` (or a child of it), which ends them.
    fn serve(self, outbox: Outbox, stop: &CancellationToken) -> (GrpcServer, Vec<JoinHandle<()>>);
}

/// A built, not yet running, domain service: the database is migrated and
/// the listener bound, so [`App::local_addr`] is final.
#[derive(Debug)]
pub struct App<D> {
    core: ServiceCore,
    domain: D,
}

impl<D: Domain> App<D> {
    /// Binds the configured address, then builds on it (see
    /// [`App::build_on`]): for tests and embedders that open no connection
    /// of their own before.
    pub async fn build(
        config: &D::Config,
        bus: Bus,
        event_retention: Duration,
        credential: D::Credential,
    ) -> Result<Self, StartupError> {
        let listener = bind(D::addr(config)).await?;
        Self::build_on(listener, config, bus, event_retention, credential).await
    }

    /// Creates the database if missing, migrates it and prepares the outbox
    /// tables, to serve on `listener`: bound by the caller before it opened
    /// any outgoing connection (see [`bind`]). Takes the bus, how long its
    /// streams keep events (`--event-retention`) and the credential check
    /// as arguments, so one process can share them between several services
    /// and no caller can leave the retention at a default by forgetting it.
    pub async fn build_on(
        listener: TcpListener,
        config: &D::Config,
        bus: Bus,
        event_retention: Duration,
        credential: D::Credential,
    ) -> Result<Self, StartupError> {
        let domain = D::new(config, credential)?;
        let (database_url, db_max_connections) = D::database(config);
        let core = ServiceCore::build(
            CoreConfig {
                name: D::NAME,
                database_url,
                db_max_connections,
            },
            listener,
            D::migrations(),
            bus,
            RelayConfig::new(D::STREAMS.to_vec(), event_retention),
        )
        .await?;
        Ok(Self { core, domain })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.core.local_addr()
    }

    /// How often the outbox relay, while another replica's holds the lock,
    /// tries for it unasked (`--relay-standby-retry`; 2 s unless set): what
    /// bounds the takeover after a replica died without handing over.
    #[must_use]
    pub fn relay_standby_retry(mut self, retry: Duration) -> Self {
        self.core.set_relay_standby_retry(retry);
        self
    }

    /// Serves gRPC and runs the outbox relay and the domain's background
    /// tasks until `shutdown` is cancelled (or the server fails, which stops
    /// the rest). Stopping finishes the calls in flight and has the relay
    /// publish what they committed and hand its lock to a standby replica
    /// (see `ServiceCore::serve`).
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), RunError> {
        let stop = shutdown.child_token();
        let (server, background) = self.domain.serve(self.core.outbox().clone(), &stop);
        self.core.serve(server, background, stop).await
    }
}
