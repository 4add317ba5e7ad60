//! What each subcommand does: bind every listener first, then connect out,
//! build, print the ready line and run until a signal. The services are
//! iterated from [`crate::services::SERVICES`], never named here.

use std::net::SocketAddr;

use anyhow::Context;
use futures::future::join_all;
use pulse_auth::TokenRequest;
use pulse_gateway::{GatewayApp, GatewayListeners};
use pulse_service::stop_on_signal;
use tokio::net::TcpListener;

use crate::{
    args::ServiceCommand,
    cli::{Command, GatewayArgs, MintTokenArgs, SuiteArgs},
    domain::Credential,
    registry::Built,
    shared::Shared,
};

/// What the suite and the gateway read: the gateway checks both kinds of
/// credential.
const EVERY_CREDENTIAL: &[Credential] = &[Credential::Jwt, Credential::MasterKey];

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Suite(args) => suite(*args).await,
        Command::Service(args) => service(args).await,
        Command::Gateway(args) => gateway(*args).await,
        Command::MintToken(args) => mint_token(&args),
        Command::EventMatrix => {
            print!("{}", pulse_gateway::event_matrix_markdown());
            Ok(())
        }
    }
}

async fn suite(args: SuiteArgs) -> anyhow::Result<()> {
    let _telemetry = args.common.telemetry.telemetry("pulse-suite").init();
    let Suite { services, gateway } = build_suite(&args).await?;
    let mut addresses = vec![
        ("gateway", format!("http://{}", gateway.local_addr())),
        ("gatewayGrpc", gateway.grpc_local_addr().to_string()),
    ];
    addresses.extend(
        services
            .iter()
            .map(|service| (service.facts().ready_key, service.local_addr().to_string())),
    );
    ready(&addresses);
    let stop = stop_on_signal();
    let (services, gateway) = tokio::join!(
        join_all(
            services
                .into_iter()
                .map(|service| service.run(stop.clone()))
        ),
        gateway.run_until_stopped(stop.clone()),
    );
    for service in services {
        service?;
    }
    gateway.context("gateway")?;
    Ok(())
}

/// Every part of the suite, built and not yet running.
struct Suite {
    services: Vec<Box<dyn Built>>,
    gateway: GatewayApp,
}

/// Binds every listener, and only then connects to NATS and to each
/// service's PostgreSQL. The default gRPC ports (50051-50054) lie inside the
/// kernel's ephemeral port range, so an outgoing connection opened before a
/// listener is bound may be given that listener's port ("address in use").
async fn build_suite(args: &SuiteArgs) -> anyhow::Result<Suite> {
    let mut listeners = Vec::new();
    for service in &args.services.0 {
        listeners.push(bind(service.addr(), service.facts().title).await?);
    }
    let gateway_listeners = GatewayListeners::bind(&args.gateway)
        .await
        .context("starting the gateway")?;
    let shared = Shared::connect(&args.common, EVERY_CREDENTIAL).await?;
    let mut services = Vec::new();
    let mut gateway_config = args.gateway.clone();
    for (service, listener) in args.services.0.iter().zip(listeners) {
        let built = service.build(listener, &shared, &args.relay).await?;
        let url = format!("http://{}", built.local_addr());
        gateway_config.services.set(service.facts().command, url);
        services.push(built);
    }
    gateway_config.master_key = shared.master_key.clone();
    shared.create_streams().await;
    let gateway = GatewayApp::build_on(
        gateway_listeners,
        &gateway_config,
        shared.bus.clone(),
        shared.credential()?,
    )
    .await
    .context("starting the gateway")?;
    Ok(Suite { services, gateway })
}

/// A service's listener, bound before any outgoing connection (see
/// [`build_suite`]).
async fn bind(addr: SocketAddr, service: &str) -> anyhow::Result<TcpListener> {
    pulse_service::bind(addr)
        .await
        .with_context(|| format!("starting the {service}"))
}

/// One service alone (`pulse lists`, …): it reads only the credential
/// settings its callers present.
async fn service(args: ServiceCommand) -> anyhow::Result<()> {
    let ServiceCommand {
        service,
        relay,
        common,
    } = args;
    let facts = service.facts();
    let _telemetry = common.telemetry.telemetry(facts.telemetry).init();
    let listener = bind(service.addr(), facts.title).await?;
    let shared = Shared::connect(&common, &[facts.credential]).await?;
    let app = service.build(listener, &shared, &relay).await?;
    ready(&[(facts.ready_key, app.local_addr().to_string())]);
    app.run(stop_on_signal()).await
}

async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let _telemetry = args.common.telemetry.telemetry("pulse-gateway").init();
    let listeners = GatewayListeners::bind(&args.gateway)
        .await
        .context("starting the gateway")?;
    let shared = Shared::connect(&args.common, EVERY_CREDENTIAL).await?;
    shared.create_streams().await;
    let mut config = args.gateway.clone();
    config.master_key = shared.master_key.clone();
    let app = GatewayApp::build_on(listeners, &config, shared.bus.clone(), shared.credential()?)
        .await
        .context("starting the gateway")?;
    ready(&[
        ("gateway", format!("http://{}", app.local_addr())),
        ("gatewayGrpc", app.grpc_local_addr().to_string()),
    ]);
    app.run_until_stopped(stop_on_signal())
        .await
        .context("gateway")
}

fn mint_token(args: &MintTokenArgs) -> anyhow::Result<()> {
    let validator = args.auth.validator()?;
    let ttl = i64::try_from(args.ttl.as_secs()).context("ttl too long")?;
    let token = validator.mint(&TokenRequest {
        sub: args.sub.unwrap_or_else(uuid::Uuid::new_v4),
        name: args.name.clone(),
        roles: args.roles.clone(),
        exp: chrono::Utc::now().timestamp() + ttl,
    })?;
    println!("{token}");
    Ok(())
}

/// One JSON line on stdout once every listener is bound, so scripts and
/// tests can wait for it and read the ports (logs go to stderr).
fn ready(addresses: &[(&str, String)]) {
    let mut line = serde_json::Map::new();
    line.insert("ready".into(), true.into());
    for (name, address) in addresses {
        line.insert((*name).into(), address.clone().into());
    }
    println!("{}", serde_json::Value::Object(line));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;
    use tokio::net::TcpStream;

    use super::*;
    use crate::cli::Cli;

    /// A port nothing listens on (bound by the OS, then released).
    async fn free_addr() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address")
    }

    #[tokio::test]
    async fn the_suite_binds_every_listener_before_its_first_outgoing_connection() {
        // A stand-in for NATS and PostgreSQL alike: it accepts and never
        // answers, so whichever connection the suite opens first waits here
        // (and the suite with it) while the test looks at the listeners. A
        // service's database connection is the one that would come before
        // its own or a later listener; NATS connects in the background.
        let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream_addr = upstream.local_addr().expect("address");
        let mut listeners = Vec::new();
        for _ in 0..6 {
            listeners.push(free_addr().await);
        }
        let database = |name: &str| format!("postgres://postgres@{upstream_addr}/{name}");
        let flags = [
            ("--lists-addr", listeners[0].to_string()),
            ("--lean-coffee-addr", listeners[1].to_string()),
            ("--coaching-addr", listeners[2].to_string()),
            ("--tasks-addr", listeners[3].to_string()),
            ("--gateway-addr", listeners[4].to_string()),
            ("--gateway-grpc-addr", listeners[5].to_string()),
            ("--nats-url", format!("nats://{upstream_addr}")),
            ("--database-url", database("lists")),
            ("--lean-coffee-database-url", database("lean_coffee")),
            ("--coaching-database-url", database("coaching")),
            ("--tasks-database-url", database("tasks")),
            ("--jwt-secret", "test-secret".to_owned()),
        ];
        let mut argv = vec!["pulse".to_owned(), "suite".to_owned()];
        for (flag, value) in flags {
            argv.extend([flag.to_owned(), value]);
        }
        let Command::Suite(args) = Cli::parse_from(argv).command else {
            panic!("not the suite command");
        };
        let starting = tokio::spawn(async move { build_suite(&args).await.map(|_| ()) });

        let (first_connection, _) =
            tokio::time::timeout(Duration::from_secs(15), upstream.accept())
                .await
                .expect("the suite connects out")
                .expect("accept");
        for addr in &listeners {
            assert!(
                TcpStream::connect(addr).await.is_ok(),
                "{addr} was not bound when the suite first connected out"
            );
        }
        drop(first_connection);
        starting.abort();
    }
}
