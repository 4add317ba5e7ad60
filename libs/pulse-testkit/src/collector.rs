//! An OpenTelemetry collector inside the test: the OTLP/gRPC trace and metrics
//! services on a port of their own, keeping every span and metric point they
//! are sent, so a test can point the suite's exporters at it and look at the
//! traces and metrics the suite produced.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{
            metrics_service_server::{MetricsService, MetricsServiceServer},
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
        },
        trace::v1::{
            trace_service_server::{TraceService, TraceServiceServer},
            ExportTraceServiceRequest, ExportTraceServiceResponse,
        },
    },
    common::v1::{any_value::Value, AnyValue, KeyValue},
    metrics::v1::{metric::Data, number_data_point, Metric, NumberDataPoint},
    resource::v1::Resource,
};
use tokio::{net::TcpListener, sync::Notify, task::JoinHandle};
use tonic::transport::{server::TcpIncoming, Server};

use crate::PATIENCE;

/// One span as the collector received it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    pub name: String,
    /// The resource's `service.name`.
    pub service: String,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    /// Empty for the root of a trace.
    pub parent_span_id: Vec<u8>,
    pub start: SystemTime,
    pub end: SystemTime,
    /// String, integer and boolean attributes, rendered as text.
    pub attributes: Vec<(String, String)>,
}

impl ReceivedSpan {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    pub fn is_child_of(&self, parent: &ReceivedSpan) -> bool {
        self.trace_id == parent.trace_id && self.parent_span_id == parent.span_id
    }

    pub fn duration(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }
}

/// How a received metric aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A cumulative monotonic sum (a Prometheus counter).
    Counter,
    Gauge,
    Histogram,
}

/// One data point of a metric, as the collector received it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedPoint {
    /// The resource's `service.name`.
    pub service: String,
    /// The instrumentation scope: the source of the metric (`lists`, `gateway`, …).
    pub scope: String,
    pub name: String,
    pub kind: MetricKind,
    pub attributes: Vec<(String, String)>,
    /// A sum's or gauge's value; a histogram's count.
    pub value: f64,
}

impl ReceivedPoint {
    /// Whether this point is `name` from `scope` with exactly `attributes`.
    pub fn is(&self, scope: &str, name: &str, attributes: &[(&str, &str)]) -> bool {
        self.scope == scope
            && self.name == name
            && self.attributes.len() == attributes.len()
            && attributes
                .iter()
                .all(|(key, value)| self.attributes.iter().any(|(k, v)| k == key && v == value))
    }
}

#[derive(Debug, Default)]
struct Received {
    spans: Mutex<Vec<ReceivedSpan>>,
    points: Mutex<Vec<ReceivedPoint>>,
    arrived: Notify,
}

/// The running collector; stops when dropped.
#[derive(Debug)]
pub struct Collector {
    endpoint: String,
    received: Arc<Received>,
    server: JoinHandle<()>,
}

impl Collector {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Received::default());
        let traces = TraceServiceServer::new(Collect(received.clone()));
        let metrics = MetricsServiceServer::new(Collect(received.clone()));
        let server = tokio::spawn(async move {
            let _ = Server::builder()
                .add_service(traces)
                .add_service(metrics)
                .serve_with_incoming(TcpIncoming::from(listener))
                .await;
        });
        Self {
            endpoint,
            received,
            server,
        }
    }

    /// Where an OTLP/gRPC exporter sends to (`http://127.0.0.1:port`).
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.spans.lock().unwrap().clone()
    }

    /// Waits until the spans received satisfy `holds`, each time some arrive,
    /// failing after [`PATIENCE`]; returns what `holds` found.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        holds: impl FnMut(&[ReceivedSpan]) -> Option<T>,
    ) -> T {
        self.wait(what, &self.received.spans, holds).await
    }

    /// [`Collector::wait_for`] over the metric points received, oldest export first.
    pub async fn wait_for_metrics<T>(
        &self,
        what: &str,
        holds: impl FnMut(&[ReceivedPoint]) -> Option<T>,
    ) -> T {
        self.wait(what, &self.received.points, holds).await
    }

    async fn wait<R: std::fmt::Debug, T>(
        &self,
        what: &str,
        received: &Mutex<Vec<R>>,
        mut holds: impl FnMut(&[R]) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let arrived = self.received.arrived.notified();
            if let Some(found) = holds(&received.lock().unwrap()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "{what} within {PATIENCE:?}; received: {:#?}",
                    received.lock().unwrap()
                );
            }
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Collect(Arc<Received>);

#[tonic::async_trait]
impl TraceService for Collect {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let service = service_name(resource_spans.resource.as_ref());
            for span in resource_spans
                .scope_spans
                .into_iter()
                .flat_map(|scope| scope.spans)
            {
                spans.push(ReceivedSpan {
                    name: span.name,
                    service: service.clone(),
                    trace_id: span.trace_id,
                    span_id: span.span_id,
                    parent_span_id: span.parent_span_id,
                    start: SystemTime::UNIX_EPOCH + Duration::from_nanos(span.start_time_unix_nano),
                    end: SystemTime::UNIX_EPOCH + Duration::from_nanos(span.end_time_unix_nano),
                    attributes: texts(&span.attributes),
                });
            }
        }
        self.0.spans.lock().unwrap().extend(spans);
        self.0.arrived.notify_waiters();
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Collect {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut points = Vec::new();
        for resource_metrics in request.into_inner().resource_metrics {
            let service = service_name(resource_metrics.resource.as_ref());
            for scope_metrics in resource_metrics.scope_metrics {
                let scope = scope_metrics
                    .scope
                    .map(|scope| scope.name)
                    .unwrap_or_default();
                for metric in scope_metrics.metrics {
                    let point = |kind, attributes: &[KeyValue], value| ReceivedPoint {
                        service: service.clone(),
                        scope: scope.clone(),
                        name: metric.name.clone(),
                        kind,
                        attributes: texts(attributes),
                        value,
                    };
                    points.extend(data_points(&metric, point));
                }
            }
        }
        self.0.points.lock().unwrap().extend(points);
        self.0.arrived.notify_waiters();
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// Each point of a metric, made by `point` from its kind, attributes and value (a histogram's
/// count).
fn data_points(
    metric: &Metric,
    point: impl Fn(MetricKind, &[KeyValue], f64) -> ReceivedPoint,
) -> Vec<ReceivedPoint> {
    let number = |value: Option<number_data_point::Value>| match value {
        Some(number_data_point::Value::AsInt(integer)) => integer as f64,
        Some(number_data_point::Value::AsDouble(double)) => double,
        None => f64::NAN,
    };
    let numbers = |kind, points: &[NumberDataPoint]| -> Vec<ReceivedPoint> {
        points
            .iter()
            .map(|p| point(kind, &p.attributes, number(p.value)))
            .collect()
    };
    match &metric.data {
        Some(Data::Sum(sum)) if sum.is_monotonic => numbers(MetricKind::Counter, &sum.data_points),
        Some(Data::Sum(sum)) => numbers(MetricKind::Gauge, &sum.data_points),
        Some(Data::Gauge(gauge)) => numbers(MetricKind::Gauge, &gauge.data_points),
        Some(Data::Histogram(histogram)) => histogram
            .data_points
            .iter()
            .map(|p| point(MetricKind::Histogram, &p.attributes, p.count as f64))
            .collect(),
        Some(Data::ExponentialHistogram(_) | Data::Summary(_)) | None => Vec::new(),
    }
}

fn service_name(resource: Option<&Resource>) -> String {
    resource
        .iter()
        .flat_map(|resource| &resource.attributes)
        .find(|attribute| attribute.key == "service.name")
        .and_then(|attribute| text(attribute.value.as_ref()))
        .unwrap_or_default()
}

/// String, integer and boolean attributes, rendered as text.
fn texts(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .filter_map(|attribute| Some((attribute.key.clone(), text(attribute.value.as_ref())?)))
        .collect()
}

fn text(value: Option<&AnyValue>) -> Option<String> {
    match value?.value.as_ref()? {
        Value::StringValue(text) => Some(text.clone()),
        Value::IntValue(number) => Some(number.to_string()),
        Value::BoolValue(flag) => Some(flag.to_string()),
        Value::DoubleValue(number) => Some(number.to_string()),
        Value::ArrayValue(_) | Value::KvlistValue(_) | Value::BytesValue(_) => None,
    }
}
