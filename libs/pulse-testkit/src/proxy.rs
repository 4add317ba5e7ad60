//! A TCP proxy a test puts between a service and a server it depends on
//! (PostgreSQL), so the test can take the server away from that service
//! alone: the shared server keeps running for every other test.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

/// Forwards connections on `addr()` to an upstream address until cut. A cut
/// closes every forwarded connection (what the service sees when the server
/// goes down or the network fails) and then closes each new connection as
/// soon as it is accepted, until restored. Dropping it ends everything.
pub struct TcpProxy {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    /// Cancelled by a cut: ends the connections forwarded before it.
    connections: Arc<Mutex<CancellationToken>>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(CancellationToken::new()));
        let accept = tokio::spawn(accept(
            listener,
            upstream,
            open.clone(),
            connections.clone(),
        ));
        Self {
            addr,
            open,
            connections,
            accept,
        }
    }

    /// Where clients connect instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every forwarded connection and every new one from now on.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        let mut connections = self.connections.lock().unwrap();
        connections.cancel();
        *connections = CancellationToken::new();
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.connections.lock().unwrap().cancel();
    }
}

async fn accept(
    listener: TcpListener,
    upstream: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<CancellationToken>>,
) {
    while let Ok((mut client, _)) = listener.accept().await {
        if !open.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let cut = connections.lock().unwrap().clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                () = cut.cancelled() => {}
            }
        });
    }
}
