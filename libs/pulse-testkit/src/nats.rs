use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

/// A private `nats-server` with JetStream, storing into a temporary directory.
/// It can be stopped and started again on the same port with the same data,
/// which is what broker-outage tests need.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: TempDir,
}

impl NatsServer {
    /// Starts on a port chosen by the server (`-p -1`).
    pub fn start() -> Self {
        let store = tempfile::tempdir().unwrap();
        let (child, port) = spawn(&store, None);
        Self {
            child: Some(child),
            port,
            store,
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port with the same JetStream store.
    pub fn restart(&mut self) {
        self.stop();
        let (child, _) = spawn(&self.store, Some(self.port));
        self.child = Some(child);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(store: &TempDir, port: Option<u16>) -> (Child, u16) {
    let port_arg = port.map_or_else(|| "-1".to_owned(), |p| p.to_string());
    let mut child = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port_arg, "-js", "-sd"])
        .arg(store.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nats-server must be on PATH");
    let stderr = child.stderr.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = BufReader::new(stderr).lines();
    let mut bound = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(addr) = line.split("Listening for client connections on ").nth(1) {
            bound = addr.trim().rsplit(':').next().and_then(|p| p.parse().ok());
        }
        if line.contains("Server is ready") {
            break;
        }
    }
    // Keep draining the pipe so the server never blocks on a full stderr.
    std::thread::spawn(move || for _ in lines {});
    let port = bound.expect("nats-server did not report its port");
    (child, port)
}
