use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use axum::{http::header, response::IntoResponse};
use pulse_telemetry::{prometheus::CONTENT_TYPE, MetricsSource};

use tokio::net::TcpListener;
use tonic::{
    body::Body,
    server::NamedService,
    service::{Routes, RoutesBuilder},
    transport::server::TcpIncoming,
    transport::Server,
};
use tonic_health::{server::HealthReporter, ServingStatus};

use crate::{metrics::CommandMetrics, trace::ObserveLayer};

const STREAM_WINDOW_BYTES: u32 = 256 * 1024;
const CONNECTION_WINDOW_BYTES: u32 = 1024 * 1024;
/// Streams one client connection may have open at once; its further calls
/// wait in the client until one ends. Without a bound (tonic's default) a
/// burst of calls on one connection, such as the gateway's `EnterList`s when
/// thousands of tabs join a list together, leaves more small request DATA
/// frames unread than h2's small-frame budget (half the connection window,
/// each frame costing up to 255 bytes) allows: h2 then closes the connection
/// with GOAWAY ENHANCE_YOUR_CALM and every call on it fails. 1,000 unread
/// unary requests cost at most 255 KB of the 512 KiB budget.
const MAX_CONCURRENT_STREAMS: u32 = 1_000;
/// Streams a client may cancel before this server took them up, at once.
/// h2's default (20) is meant against reset floods, but a client whose
/// deadline expires for a crowd of queued calls (the gateway under a burst of
/// joins) cancels hundreds together, and over the limit h2 closes the
/// connection with GOAWAY ENHANCE_YOUR_CALM, failing every other call on it.
/// A cancelled stream no longer counts against [`MAX_CONCURRENT_STREAMS`] in
/// the client, so while this server's connection task waits for a core the
/// client opens and cancels more than that many; ten times as many (a few
/// hundred bytes each until taken up, a few MB per connection) is what a
/// starved server sees from a client cycling through its deadlines, and still
/// bounds a reset flood.
const MAX_PENDING_ACCEPT_RESETS: usize = 10 * MAX_CONCURRENT_STREAMS as usize;

/// Builder for a gRPC server with reflection and health already on, and
/// `GET /metrics` (Prometheus text, over HTTP/1.1) on the same port.
pub struct GrpcServer {
    routes: RoutesBuilder,
    health: HealthReporter,
    names: Vec<&'static str>,
    metrics: Arc<CommandMetrics>,
    /// More of the service's metrics, rendered at each scrape after the server's own (the
    /// outbox's, which are read from the database).
    more_metrics: Option<MetricsSource>,
    /// The scope the metrics are exported under over OTLP, when they are.
    export_scope: Option<&'static str>,
}

impl Default for GrpcServer {
    fn default() -> Self {
        Self::new()
    }
}

impl GrpcServer {
    pub fn new() -> Self {
        let (health, health_service) = tonic_health::server::health_reporter();
        let mut routes = Routes::builder();
        routes.add_service(health_service);
        Self {
            routes,
            health,
            names: Vec::new(),
            metrics: Arc::default(),
            more_metrics: None,
            export_scope: None,
        }
    }

    /// Adds `source` to what `GET /metrics` shows.
    pub fn with_metrics(mut self, source: MetricsSource) -> Self {
        self.more_metrics = Some(source);
        self
    }

    /// Exports what `GET /metrics` shows through the process's OTLP metric exporter (if it has
    /// one), under the scope `scope`, while the server runs.
    pub fn export_metrics_as(mut self, scope: &'static str) -> Self {
        self.export_scope = Some(scope);
        self
    }

    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: tonic::codegen::Service<
                tonic::codegen::http::Request<Body>,
                Response = tonic::codegen::http::Response<Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Serves on an already-bound listener until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error> {
        for name in &self.names {
            self.health
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        let reflection_v1 = reflection(&self.names)
            .build_v1()
            .map_err(|e| tracing::error!(error = %e, "reflection v1 setup failed"))
            .ok();
        let reflection_v1alpha = reflection(&self.names)
            .build_v1alpha()
            .map_err(|e| tracing::error!(error = %e, "reflection v1alpha setup failed"))
            .ok();
        let mut routes = self.routes;
        if let Some(service) = reflection_v1 {
            routes.add_service(service);
        }
        if let Some(service) = reflection_v1alpha {
            routes.add_service(service);
        }
        let scrape = Scrape {
            commands: self.metrics.clone(),
            more: self.more_metrics,
        };
        let _exported = self.export_scope.map(|scope| {
            let scrape = scrape.clone();
            pulse_telemetry::export_metrics(
                scope,
                Arc::new(move || {
                    let scrape = scrape.clone();
                    Box::pin(async move { scrape.text().await })
                }),
            )
        });
        let router = routes.routes().into_axum_router().route(
            "/metrics",
            axum::routing::get(move || {
                let scrape = scrape.clone();
                async move { scrape.render().await }
            }),
        );
        let served: Arc<[&'static str]> = self.names.into();
        Server::builder()
            // Prometheus scrapes `/metrics` over HTTP/1.1; gRPC stays on HTTP/2.
            .accept_http1(true)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_keepalive_timeout(Some(Duration::from_secs(10)))
            // Explicit flow-control windows: what one slow reader can make
            // the server buffer in HTTP/2 is bounded and known.
            .initial_stream_window_size(Some(STREAM_WINDOW_BYTES))
            .initial_connection_window_size(Some(CONNECTION_WINDOW_BYTES))
            .max_concurrent_streams(Some(MAX_CONCURRENT_STREAMS))
            .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_ACCEPT_RESETS))
            .layer(ObserveLayer::new(self.metrics, served))
            .add_routes(Routes::from(router))
            // Replies go out as soon as they are written: with a listener of its own tonic does
            // not set TCP_NODELAY, and Nagle's algorithm would hold a reply's last segment
            // until the client acknowledged the one before.
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                shutdown,
            )
            .await
    }
}

/// Reflection over the services this server carries (`served`), health and
/// both reflection versions, so `grpcurl list` shows exactly what answers
/// here: the descriptor set holds every service of the suite, and one
/// process may serve only some of them.
fn reflection(served: &[&'static str]) -> tonic_reflection::server::Builder<'static> {
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pulse_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health")
        .with_service_name("grpc.reflection.v1.ServerReflection")
        .with_service_name("grpc.reflection.v1alpha.ServerReflection");
    served
        .iter()
        .fold(builder, |builder, name| builder.with_service_name(*name))
}

/// What `GET /metrics` reads.
#[derive(Clone)]
struct Scrape {
    commands: Arc<CommandMetrics>,
    more: Option<MetricsSource>,
}

impl Scrape {
    async fn render(&self) -> impl IntoResponse {
        ([(header::CONTENT_TYPE, CONTENT_TYPE)], self.text().await)
    }

    /// The commands, the service's other metrics and the process's export counters.
    async fn text(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.commands.render(&mut out);
        if let Some(more) = &self.more {
            out.push_str(&more().await);
        }
        pulse_telemetry::prometheus::export_counters(
            &mut out,
            pulse_telemetry::dropped_spans(),
            pulse_telemetry::failed_metric_exports(),
        );
        out
    }
}
