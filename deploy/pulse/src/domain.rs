//! What the binary needs to know of a domain service, declared once per
//! service (in [`crate::services`]) so the subcommands, `pulse suite` and the
//! ready line are written once for all of them.

use std::{future::Future, net::SocketAddr};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use pulse_service::{App, Domain};

use crate::{
    cli::RelayArgs,
    shared::{FromShared, Shared},
};

/// One domain service as `pulse` runs it: its own settings, how it is built
/// on a listener bound beforehand, and how it runs.
pub trait DomainService: Send + Sized + 'static {
    /// The service's own settings (`ListsConfig`): flags that carry the
    /// service's name, so `pulse suite` can take every service's at once.
    type Config: clap::Args + clap::FromArgMatches + std::fmt::Debug + Send + Sync + 'static;

    /// The address its gRPC API is configured to listen on.
    fn addr(config: &Self::Config) -> SocketAddr;

    /// Builds the service on `listener` (bound before any outgoing
    /// connection) with what the process shares and its relay settings.
    fn build_on(
        listener: TcpListener,
        config: &Self::Config,
        shared: &Shared,
        relay: &RelayArgs,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// The bound address (the real port when configured with port 0).
    fn local_addr(&self) -> SocketAddr;

    /// Serves until `stop` is cancelled.
    fn run_until_stopped(
        self,
        stop: CancellationToken,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Every service of the shell (`pulse_service::App`) is one: the credential
/// argument is taken from [`Shared`] by its type.
impl<D> DomainService for App<D>
where
    D: Domain,
    D::Config: clap::Args + clap::FromArgMatches + std::fmt::Debug + Send + Sync + 'static,
    D::Credential: FromShared + Send,
{
    type Config = D::Config;

    fn addr(config: &D::Config) -> SocketAddr {
        D::addr(config)
    }

    async fn build_on(
        listener: TcpListener,
        config: &D::Config,
        shared: &Shared,
        relay: &RelayArgs,
    ) -> anyhow::Result<Self> {
        let credential = shared.credential()?;
        let app = App::build_on(
            listener,
            config,
            shared.bus.clone(),
            shared.event_retention,
            credential,
        )
        .await?;
        Ok(app.relay_standby_retry(relay.relay_standby_retry))
    }

    fn local_addr(&self) -> SocketAddr {
        App::local_addr(self)
    }

    async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        Ok(App::run_until_stopped(self, stop).await?)
    }
}

/// A service's names, where the binary shows them.
#[derive(Debug)]
pub struct Facts {
    /// Its subcommand (`pulse lean-coffee`); the gateway knows the service
    /// by the same name (`--lean-coffee-url`).
    pub command: &'static str,
    /// The subcommand's help line.
    pub about: &'static str,
    /// The key of its address in the ready line (`leanCoffee`).
    pub ready_key: &'static str,
    /// How errors name it (`Lean Coffee service`).
    pub title: &'static str,
    /// Its name in telemetry when it runs alone (`pulse-lean-coffee`).
    pub telemetry: &'static str,
    /// The credential its callers present, which a process running it
    /// alone reads (and nothing else: `pulse tasks` needs no JWT settings).
    pub credential: Credential,
}

/// What a service checks its callers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// User JWTs.
    Jwt,
    /// The master key or a virtual key.
    MasterKey,
}
