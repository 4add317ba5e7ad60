//! One service replica: the real `pulse` binary as an OS process of its
//! own, started like an operator starts it and stopped the two ways a
//! platform stops it (SIGTERM, SIGKILL). Dropped, it is killed, so no replica
//! outlives its test even when the test fails; a failing test also prints
//! the last lines each replica logged.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::helpers::PATIENCE;

/// Log lines kept per replica, shown when a test fails.
const LOG_TAIL: usize = 60;

/// A running `pulse <service>` process.
pub struct Replica {
    name: String,
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Replica {
    /// Starts `pulse <command> <args…>` and waits for its ready line, from
    /// which it reads the address under `ready_key`.
    pub async fn start(name: &str, command: &str, ready_key: &str, args: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
            .arg(command)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("pulse starts");
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_TAIL)));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    if log.len() == LOG_TAIL {
                        log.pop_front();
                    }
                    log.push_back(line);
                }
            });
        }
        let stdout = child.stdout.take().expect("stdout piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{name} printed no ready line in time"))
            .expect("stdout readable")
            .unwrap_or_else(|| panic!("{name} exited before it was ready"));
        let ready: serde_json::Value = serde_json::from_str(&line).expect("a JSON ready line");
        let addr = ready[ready_key]
            .as_str()
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("{name}'s ready line has no {ready_key}: {line}"));
        Self {
            name: name.to_owned(),
            child,
            addr,
            log,
        }
    }

    /// Its gRPC address (also where `GET /metrics` answers).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether its outbox relay holds the relay lock (`pulse_relay_leader`
    /// on its `/metrics`); `None` when it does not answer.
    pub async fn relay_leader(&self) -> Option<bool> {
        let url = format!("http://{}/metrics", self.addr);
        let text = reqwest::get(url).await.ok()?.text().await.ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix("pulse_relay_leader "))
            .map(|value| value.trim() == "1")
    }

    /// Sends SIGTERM: what a platform sends to stop a replica gracefully.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM to {}", self.name);
    }

    /// SIGKILL: the replica dies where it stands, mid-call, mid-publish.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.exits_within(PATIENCE).await;
    }

    /// Waits for the process to end, failing the test after `within`.
    pub async fn exits_within(&mut self, within: Duration) -> ExitStatus {
        tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} still running after {within:?}", self.name))
            .expect("wait")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        // `kill_on_drop` ends the process; a failing test shows its log.
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!("--- last lines of {} ---", self.name);
            for line in log.iter() {
                eprintln!("{line}");
            }
        }
    }
}
