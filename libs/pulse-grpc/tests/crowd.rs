//! A crowd of unary calls arriving on one HTTP/2 connection at once, as the
//! gateway sends thousands of `EnterList`s when thousands of tabs join a list
//! together (issue 13).
//!
//! Every small request DATA frame a server has received but its handler has
//! not read yet costs h2's per-connection "small DATA frame" budget (half the
//! connection window); when a burst of streams outruns the handlers, the
//! budget runs out and h2 closes the connection with GOAWAY
//! ENHANCE_YOUR_CALM, failing every call in flight on it ("transport error").

use std::time::{Duration, Instant};

use pulse_grpc::GrpcServer;
use tokio::net::TcpListener;
use tonic::{transport::Endpoint, Code};
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

/// Well above what the budget of a 1 MiB connection window holds of tiny
/// frames (about 2,000), so the burst exhausts it unless the server bounds
/// the streams a client may have open at once; and well above the streams a
/// client may have open (1,000), so cancelled calls cycle through them.
const CALLS: usize = 6_000;
const DEADLINE: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_calls_on_one_connection_all_succeed() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(GrpcServer::new().serve(listener, async move {
        let _ = stopped.await;
    }));
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let started = Instant::now();
    let calls = (0..CALLS).map(|_| {
        let mut client = HealthClient::new(channel.clone());
        async move {
            client
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
        }
    });
    let answers = tokio::time::timeout(DEADLINE, futures::future::join_all(calls))
        .await
        .expect("the calls end within the deadline");
    let failed: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    println!(
        "{CALLS} calls at once on one connection in {:?} ({} failed)",
        started.elapsed(),
        failed.len()
    );
    if let Some(status) = failed.first() {
        println!("first failure: {status:?}");
    }
    assert!(failed.is_empty());
    let _ = stop.send(());
    server.await.expect("server task").expect("server");
}

/// A client deadline short enough that a crowd of calls outlives it.
const SHORT_DEADLINE: Duration = Duration::from_millis(20);

/// A crowd of calls whose deadline expires while the server has not yet
/// taken them up: each is cancelled (RST_STREAM) while pending accept. Over
/// h2's default limit (20) the server answered with GOAWAY ENHANCE_YOUR_CALM,
/// failing the calls that were still within their deadline with transport
/// errors; now every call ends on its own, answered or timed out. A limit of
/// the open-stream bound (1,000) still failed a few calls now and then when
/// the server's task was starved (a loaded CI machine): the client's
/// cancelled streams free their slots, so it opens and cancels more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_cancelled_by_their_deadline_do_not_fail_the_others() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(GrpcServer::new().serve(listener, async move {
        let _ = stopped.await;
    }));
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .timeout(SHORT_DEADLINE)
        .connect()
        .await
        .expect("connect");
    let calls = (0..CALLS).map(|_| {
        let mut client = HealthClient::new(channel.clone());
        async move {
            client
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
        }
    });
    let answers = tokio::time::timeout(DEADLINE, futures::future::join_all(calls))
        .await
        .expect("the calls end within the deadline");
    let timed_out = answers
        .iter()
        .filter(|a| a.as_ref().is_err_and(|s| s.code() == Code::Cancelled))
        .count();
    let lost: Vec<_> = answers
        .iter()
        .filter_map(|a| a.as_ref().err())
        .filter(|s| s.code() != Code::Cancelled)
        .collect();
    println!(
        "{CALLS} calls with a {SHORT_DEADLINE:?} deadline: {timed_out} timed out, {} lost otherwise",
        lost.len()
    );
    if let Some(status) = lost.first() {
        println!("first lost: {status:?}");
    }
    assert!(lost.is_empty());
    let _ = stop.send(());
    server.await.expect("server task").expect("server");
}
