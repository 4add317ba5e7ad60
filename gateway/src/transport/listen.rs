//! Accepting HTTP connections with the limits slowloris needs: a deadline for a request's
//! headers, and a cap on connections that have not delivered their first request yet (they
//! are not even authenticated), globally and per source address.
//!
//! Such a connection holds memory (hyper's read buffer grows with what trickles in) while it
//! costs the client almost nothing, so they are counted from accept until the first request's
//! headers are complete or the connection ends; over either cap a new connection is closed at
//! once. The header deadline (hyper's) applies to every request of a connection.

use std::{
    collections::HashMap,
    future::Future,
    net::IpAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::Duration,
};

use axum::{body::Body, extract::Request, Router};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How connections are accepted: the limits on those that have not sent a complete request yet,
/// and the pause after a failed accept.
#[derive(Debug, Clone, Copy)]
pub struct ListenLimits {
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// Connections without a complete first request, from all addresses.
    pub max_handshaking: usize,
    /// Connections without a complete first request, from one address.
    pub max_handshaking_per_address: usize,
    /// Wait before accepting again after an accept failed (out of file descriptors, usually).
    pub accept_retry_delay: Duration,
}

/// Serves `router` on `listener` until `stop` completes, then lets the connections in flight
/// finish (upgraded WebSockets are the transport's to close).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ListenLimits,
    stop: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let gate = Gate::new(limits);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, usually: wait for some to be released.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(limits.accept_retry_delay).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(pass) = gate.admit(peer.ip()) else {
            tracing::debug!(%peer, "refused: too many connections without a request");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let requested = pass.requested.clone();
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            pass.release();
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let first_request_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            // hyper's header timeout starts with the first byte; a client that sends none
            // gets the same time for its whole first request head.
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = requested.cancelled() => connection.await,
                () = tokio::time::sleep(first_request_timeout) => {
                    tracing::debug!("no request within the header timeout; closed");
                    return;
                }
            };
            if let Err(error) = ended {
                tracing::trace!(%error, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}

/// Counts connections that have not delivered a complete request yet.
#[derive(Debug)]
struct Gate {
    limits: ListenLimits,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

impl Gate {
    fn new(limits: ListenLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counts: Mutex::default(),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a new connection from `address`; `None` when a cap is reached.
    fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Pass> {
        let mut counts = self.counts();
        if counts.total >= self.limits.max_handshaking {
            return None;
        }
        let from_address = counts.per_address.entry(address).or_default();
        if *from_address >= self.limits.max_handshaking_per_address {
            return None;
        }
        *from_address += 1;
        counts.total += 1;
        Some(Pass {
            gate: self.clone(),
            address,
            released: AtomicBool::new(false),
            requested: CancellationToken::new(),
        })
    }

    fn release(&self, address: IpAddr) {
        let mut counts = self.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(from_address) = counts.per_address.get_mut(&address) {
            *from_address = from_address.saturating_sub(1);
            if *from_address == 0 {
                counts.per_address.remove(&address);
            }
        }
    }
}

/// A connection counted by the gate until its first request arrived or it ended.
#[derive(Debug)]
struct Pass {
    gate: Arc<Gate>,
    address: IpAddr,
    /// Set by the first release, so the connection is uncounted once.
    released: AtomicBool,
    /// Cancelled when the first request's head arrived (or the pass was dropped).
    requested: CancellationToken,
}

impl Pass {
    fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            self.requested.cancel();
            self.gate.release(self.address);
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(total: usize, per_address: usize) -> Arc<Gate> {
        Gate::new(ListenLimits {
            header_read_timeout: Duration::from_secs(1),
            max_handshaking: total,
            max_handshaking_per_address: per_address,
            accept_retry_delay: Duration::from_millis(50),
        })
    }

    #[test]
    fn each_address_and_all_together_are_capped_until_a_request_arrives() {
        let gate = gate(3, 2);
        let (a, b, c) = (
            IpAddr::from([10, 0, 0, 1]),
            IpAddr::from([10, 0, 0, 2]),
            IpAddr::from([10, 0, 0, 3]),
        );
        let first = gate.admit(a).expect("first from a");
        let _second = gate.admit(a).expect("second from a");
        assert!(gate.admit(a).is_none(), "a third from a is over its cap");
        let _from_b = gate.admit(b).expect("b has its own cap");
        assert!(gate.admit(c).is_none(), "over the global cap");
        first.release();
        let _from_c = gate.admit(c).expect("a request freed a place");
        drop(first);
        assert!(gate.admit(a).is_none(), "released once only");
    }

    #[test]
    fn a_connection_that_ends_frees_its_place() {
        let gate = gate(1, 1);
        let address = IpAddr::from([10, 0, 0, 1]);
        drop(gate.admit(address).expect("admitted"));
        let again = gate.admit(address);
        assert!(again.is_some());
        drop(again);
        assert_eq!(gate.counts().total, 0);
        assert!(gate.counts().per_address.is_empty());
    }
}
