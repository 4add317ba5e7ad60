//! The system under test: the shopping-list service and a gateway in this
//! process, on loopback.

use std::net::SocketAddr;

use clap::Parser;
use pulse_bus::{Bus, Namespace};
use pulse_gateway::{GatewayApp, GatewayConfig};
use pulse_lists::{ListsApp, ListsConfig};
use pulse_testkit::TestDatabase;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::harness::{delete_streams, Sizes};

#[derive(Parser)]
struct ListsArgs {
    #[command(flatten)]
    config: ListsConfig,
}

#[derive(Parser)]
struct GatewayArgs {
    #[command(flatten)]
    config: GatewayConfig,
}

/// The shopping-list service and a gateway on loopback, each with its own
/// NATS connection (as separate processes would have), and the database.
pub(crate) struct Suite {
    pub(crate) lists: SocketAddr,
    pub(crate) gateway: SocketAddr,
    pub(crate) namespace: Namespace,
    stop_lists: CancellationToken,
    stop_gateway: CancellationToken,
    lists_task: JoinHandle<()>,
    gateway_task: JoinHandle<()>,
    _database: TestDatabase,
}

impl Suite {
    pub(crate) async fn start(sizes: &Sizes) -> Result<Self, String> {
        let database = TestDatabase::create().await;
        let namespace =
            Namespace::new(&pulse_testkit::unique_namespace()).map_err(|e| e.to_string())?;
        let nats = pulse_testkit::shared_nats_url();
        let connect = || Bus::connect(&nats, namespace.clone());
        let lists_config = ListsArgs::parse_from([
            "lists",
            "--lists-addr",
            "127.0.0.1:0",
            "--database-url",
            &database.url(),
            "--db-max-connections",
            &sizes.db_connections.to_string(),
            // Longer than the run: the members send no presence heartbeat, and
            // an expiry would put UserLeft events between the measured ones.
            "--presence-timeout",
            "1h",
        ])
        .config;
        let validator = pulse_testkit::jwt_validator();
        let bus = connect().await.map_err(|e| format!("nats: {e}"))?;
        let lists = ListsApp::build(
            &lists_config,
            bus,
            pulse_testkit::EVENT_RETENTION,
            validator.clone(),
        )
        .await
        .map_err(|e| format!("lists service: {e}"))?;
        let lists_addr = lists.local_addr();
        let gateway_config = GatewayArgs::parse_from([
            "gateway",
            "--gateway-addr",
            "127.0.0.1:0",
            "--gateway-grpc-addr",
            "127.0.0.1:0",
            "--lists-url",
            &format!("http://{lists_addr}"),
        ])
        .config;
        let bus = connect().await.map_err(|e| format!("nats: {e}"))?;
        let gateway = GatewayApp::build(&gateway_config, bus, validator)
            .await
            .map_err(|e| format!("gateway: {e}"))?;
        let gateway_addr = gateway.local_addr();
        let (stop_lists, stop_gateway) = (CancellationToken::new(), CancellationToken::new());
        let gateway_task = tokio::spawn({
            let stop = stop_gateway.clone();
            async move {
                let _ = gateway.run_until_stopped(stop).await;
            }
        });
        let lists_task = tokio::spawn({
            let stop = stop_lists.clone();
            async move {
                let _ = lists.run_until_stopped(stop).await;
            }
        });
        Ok(Self {
            lists: lists_addr,
            gateway: gateway_addr,
            namespace,
            stop_lists,
            stop_gateway,
            lists_task,
            gateway_task,
            _database: database,
        })
    }

    /// Gateway first (its connections leave their lists), then the service;
    /// the database is dropped with the suite.
    pub(crate) async fn stop(self) {
        self.stop_gateway.cancel();
        let _ = self.gateway_task.await;
        self.stop_lists.cancel();
        let _ = self.lists_task.await;
        delete_streams(&self.namespace).await;
    }
}
