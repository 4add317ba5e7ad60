//! A domain service under test: built in its [`TestEnv`], listening on
//! 127.0.0.1:0 and running until the test stops it or ends. A service's
//! `tests/api/helpers.rs` wraps one in its own `TestApp`, which adds only
//! what is the service's: its config, its clients, its domain steps.

use std::net::SocketAddr;

use pulse_service::{App, Domain, RunError};
use tonic::service::interceptor::InterceptedService;

use crate::{connect, Authorized, Bearer, RunningService, TestEnv, EVENT_RETENTION};

/// A running service, the environment it runs in, and where it listens.
/// Dropping it cancels the service.
pub struct TestService {
    addr: SocketAddr,
    /// Its database and bus namespace, for checks the API does not offer and
    /// for the next instance (after a restart, or scaled out).
    env: TestEnv,
    running: RunningService<RunError>,
}

impl TestService {
    /// Builds the domain service `D` (its `config` pointing at `env`'s
    /// database) on a bus connection of its own, and runs it until stopped
    /// or dropped.
    pub async fn start<D: Domain>(
        env: TestEnv,
        config: &D::Config,
        credential: D::Credential,
    ) -> Self {
        let app = App::<D>::build(config, env.service_bus().await, EVENT_RETENTION, credential)
            .await
            .expect("service builds");
        let addr = app.local_addr();
        let running = RunningService::spawn(|shutdown| app.run_until_stopped(shutdown));
        Self { addr, env, running }
    }

    /// Where the service listens, for clients built by the test itself.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The environment it runs in.
    pub fn env(&self) -> &TestEnv {
        &self.env
    }

    /// A connection of its own to the service, sending `bearer`'s
    /// credential with every call: what a generated client is built on
    /// (`FooClient::new(service.channel(bearer).await)`).
    pub async fn channel(&self, bearer: Bearer) -> Authorized {
        InterceptedService::new(connect(self.addr).await, bearer)
    }

    /// Cancels the service and waits until it has stopped.
    pub async fn stop(self) {
        self.running.stop().await;
    }
}
