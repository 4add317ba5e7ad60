//! The two servers in the race, each a child process of the bench: the
//! release `pulse suite` with a private nats-server and fresh databases, and
//! the socketioxide peer built from its own manifest. Both print one JSON
//! "ready" line; both are stopped (and killed if they linger) when the run
//! ends, however it ends.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{anyhow, bail, Context, Result};
use pulse_auth::{JwtKeys, JwtValidator, TokenRequest};
use pulse_testkit::{NatsServer, TestDatabase};
use secrecy::SecretString;
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    time::timeout,
};
use uuid::Uuid;

use crate::proc_stats;

/// Only this run's suite trusts it; tokens are minted with it below.
const JWT_SECRET: &str = "pulse-bench-secret";
const MASTER_KEY: &str = "pulse-bench-master-key";
const READY_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const TOKEN_LIFETIME_SECS: i64 = 6 * 3600;

/// A server process the bench started and measures.
pub struct Server {
    child: Child,
    pid: u32,
    ready: Value,
}

impl Server {
    /// Starts `command` and waits for its `{"ready":true,…}` line on stdout.
    async fn start(mut command: Command, log: &Path) -> Result<Self> {
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .context("starting the server")?;
        let pid = child.id().ok_or_else(|| anyhow!("server exited at once"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no stdout pipe"))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = timeout(READY_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Ok(ready) = serde_json::from_str::<Value>(&line) {
                    if ready["ready"] == true {
                        return Ok(ready);
                    }
                }
            }
            bail!(
                "the server exited before it was ready (see {})",
                log.display()
            )
        })
        .await
        .map_err(|_| anyhow!("the server was not ready within {READY_TIMEOUT:?}"))??;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, pid, ready })
    }

    fn address(&self, key: &str) -> Result<SocketAddr> {
        let text = self.ready[key]
            .as_str()
            .ok_or_else(|| anyhow!("no {key} in the ready line {}", self.ready))?;
        text.trim_start_matches("http://")
            .parse()
            .with_context(|| format!("{key} address {text}"))
    }

    pub fn rss_kib(&self) -> Result<u64> {
        proc_stats::rss_kib(self.pid)
    }

    pub fn cpu_micros(&self) -> Result<u64> {
        proc_stats::cpu_micros(self.pid)
    }

    /// SIGTERM, then SIGKILL if it has not exited in time.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if timeout(STOP_TIMEOUT, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// The Pulse suite and what it runs on; the nats-server and the databases
/// go when this is dropped.
pub struct PulseSuite {
    pub server: Server,
    pub gateway: SocketAddr,
    pub lists: SocketAddr,
    validator: JwtValidator,
    _nats: NatsServer,
    _databases: Vec<TestDatabase>,
}

impl PulseSuite {
    /// Starts the suite; its gateway waits `write_delay` after the first frame of a write
    /// (`--write-delay`).
    pub async fn start(binary: &Path, logs: &Path, write_delay: Duration) -> Result<Self> {
        let nats = NatsServer::start();
        let mut databases = Vec::new();
        for _ in 0..4 {
            databases.push(TestDatabase::create().await);
        }
        let mut command = Command::new(binary);
        command
            .arg("suite")
            .args(["--jwt-secret", JWT_SECRET, "--master-key", MASTER_KEY])
            .args(["--nats-url", &nats.url()])
            .args(["--database-url", &databases[0].url()])
            .args(["--lean-coffee-database-url", &databases[1].url()])
            .args(["--coaching-database-url", &databases[2].url()])
            .args(["--tasks-database-url", &databases[3].url()])
            // Clients send no presence heartbeat: expiries would add
            // UserLeft events to the measured stream.
            .args(["--presence-timeout", "6h", "--participant-timeout", "6h"])
            // Joins queue in the lists service; the race measures how long
            // they take, so none may give up on the gateway's deadline.
            .args(["--service-timeout", "10m"])
            // Every client of the race is one user on one address, and connects in bursts:
            // the per-user, per-address and pending-connection limits are for the internet,
            // not for a load generator on loopback.
            .args(["--max-connections-per-user", "20000"])
            .args(["--max-pending-connections", "20000"])
            .args(["--max-handshaking-connections", "20000"])
            .args(["--max-handshaking-connections-per-address", "20000"])
            .args(["--write-delay", &format!("{}ms", write_delay.as_millis())])
            .env("RUST_LOG", "warn");
        for flag in [
            "--lists-addr",
            "--lean-coffee-addr",
            "--coaching-addr",
            "--tasks-addr",
            "--gateway-addr",
            "--gateway-grpc-addr",
        ] {
            command.args([flag, "127.0.0.1:0"]);
        }
        let server = Server::start(command, &logs.join("pulse.log")).await?;
        let validator = JwtValidator::new(&JwtKeys::Hs256(SecretString::from(JWT_SECRET)))
            .context("HS256 validator")?;
        Ok(Self {
            gateway: server.address("gateway")?,
            lists: server.address("lists")?,
            server,
            validator,
            _nats: nats,
            _databases: databases,
        })
    }

    /// A token the suite accepts, for a new user.
    pub fn mint(&self, name: &str) -> Result<(Uuid, String)> {
        let sub = Uuid::new_v4();
        let token = self
            .validator
            .mint(&TokenRequest {
                sub,
                name: name.to_owned(),
                roles: Vec::new(),
                exp: chrono::Utc::now().timestamp() + TOKEN_LIFETIME_SECS,
            })
            .context("minting a token")?;
        Ok((sub, token))
    }
}

/// Builds the peer (release) from its manifest; returns the binary.
pub async fn build_peer(manifest: &Path) -> Result<PathBuf> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(manifest)
        .status()
        .await
        .context("running cargo for the peer")?;
    if !status.success() {
        bail!("building the socketioxide peer failed");
    }
    let dir = manifest
        .parent()
        .ok_or_else(|| anyhow!("peer manifest has no folder"))?;
    Ok(dir.join("target/release/peer-socketioxide"))
}

/// Builds the release `pulse` binary of this workspace; returns it.
pub async fn build_pulse(workspace: &Path) -> Result<PathBuf> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "pulse"])
        .current_dir(workspace)
        .status()
        .await
        .context("running cargo for pulse")?;
    if !status.success() {
        bail!("building the release pulse binary failed");
    }
    Ok(workspace.join("target/release/pulse"))
}

pub struct Peer {
    pub server: Server,
    pub addr: SocketAddr,
}

impl Peer {
    pub async fn start(binary: &Path, logs: &Path) -> Result<Self> {
        let mut command = Command::new(binary);
        command.args(["--addr", "127.0.0.1:0", "--max-buffer-size", "4096"]);
        let server = Server::start(command, &logs.join("peer-socketioxide.log")).await?;
        Ok(Self {
            addr: server.address("addr")?,
            server,
        })
    }
}
