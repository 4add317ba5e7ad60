//! The services of [`crate::services::SERVICES`] behind one object-safe
//! face, so the subcommands and `pulse suite` iterate a list: a
//! [`Service`] adds its settings to a command and reads them back as a
//! [`Configured`] service, which builds into a [`Built`] one, which runs.

use std::{fmt, marker::PhantomData, net::SocketAddr};

use anyhow::Context;
use clap::{ArgMatches, Command, FromArgMatches};
use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    cli::RelayArgs,
    domain::{DomainService, Facts},
    shared::Shared,
};

/// A service as listed: its facts and its settings.
pub trait Service: Sync {
    fn facts(&self) -> &Facts;
    /// Adds the service's own flags to `command`.
    fn augment(&self, command: Command) -> Command;
    /// Reads the service's own settings back from what `command` parsed.
    fn configure(&'static self, matches: &ArgMatches) -> Result<Box<dyn Configured>, clap::Error>;
}

/// A service with its settings, nothing bound yet.
pub trait Configured: fmt::Debug + Send + Sync {
    fn facts(&self) -> &'static Facts;
    fn addr(&self) -> SocketAddr;
    fn build<'a>(
        &'a self,
        listener: TcpListener,
        shared: &'a Shared,
        relay: &'a RelayArgs,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Built>>>;
}

/// A built service, its listener bound: ready to run.
pub trait Built: Send {
    fn facts(&self) -> &'static Facts;
    fn local_addr(&self) -> SocketAddr;
    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, anyhow::Result<()>>;
}

/// The list entry of a [`DomainService`]: its facts.
pub struct Entry<S> {
    facts: Facts,
    service: PhantomData<fn() -> S>,
}

impl<S> Entry<S> {
    pub const fn new(facts: Facts) -> Self {
        Self {
            facts,
            service: PhantomData,
        }
    }
}

impl<S: DomainService> Service for Entry<S> {
    fn facts(&self) -> &Facts {
        &self.facts
    }

    fn augment(&self, command: Command) -> Command {
        <S::Config as clap::Args>::augment_args(command)
    }

    fn configure(&'static self, matches: &ArgMatches) -> Result<Box<dyn Configured>, clap::Error> {
        let config = S::Config::from_arg_matches(matches)?;
        Ok(Box::new(Config::<S> {
            facts: &self.facts,
            config,
        }))
    }
}

/// A [`DomainService`]'s settings.
struct Config<S: DomainService> {
    facts: &'static Facts,
    config: S::Config,
}

impl<S: DomainService> fmt::Debug for Config<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl<S: DomainService> Configured for Config<S> {
    fn facts(&self) -> &'static Facts {
        self.facts
    }

    fn addr(&self) -> SocketAddr {
        S::addr(&self.config)
    }

    fn build<'a>(
        &'a self,
        listener: TcpListener,
        shared: &'a Shared,
        relay: &'a RelayArgs,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Built>>> {
        Box::pin(async move {
            let app = S::build_on(listener, &self.config, shared, relay)
                .await
                .with_context(|| format!("starting the {}", self.facts.title))?;
            Ok(Box::new(Running {
                facts: self.facts,
                app,
            }) as Box<dyn Built>)
        })
    }
}

/// A built [`DomainService`].
struct Running<S> {
    facts: &'static Facts,
    app: S,
}

impl<S: DomainService> Built for Running<S> {
    fn facts(&self) -> &'static Facts {
        self.facts
    }

    fn local_addr(&self) -> SocketAddr {
        self.app.local_addr()
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> {
        Box::pin(async move {
            self.app
                .run_until_stopped(stop)
                .await
                .context(self.facts.title)
        })
    }
}
