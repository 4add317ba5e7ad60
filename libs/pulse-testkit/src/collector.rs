//! An OpenTelemetry collector inside the test: the OTLP/gRPC trace service
//! on a port of its own, keeping every span it is sent, so a test can point
//! the suite's exporter at it and look at the traces the suite produced.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        trace_service_server::{TraceService, TraceServiceServer},
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    },
    common::v1::{any_value::Value, AnyValue},
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

#[derive(Debug, Default)]
struct Received {
    spans: Mutex<Vec<ReceivedSpan>>,
    arrived: Notify,
}

/// The running collector; stops when dropped.
#[derive(Debug)]
pub struct TraceCollector {
    endpoint: String,
    received: Arc<Received>,
    server: JoinHandle<()>,
}

impl TraceCollector {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Received::default());
        let service = TraceServiceServer::new(Collect(received.clone()));
        let server = tokio::spawn(async move {
            let _ = Server::builder()
                .add_service(service)
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
        mut holds: impl FnMut(&[ReceivedSpan]) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let arrived = self.received.arrived.notified();
            if let Some(found) = holds(&self.received.spans.lock().unwrap()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("{what} within {PATIENCE:?}; received: {:#?}", self.spans());
            }
        }
    }
}

impl Drop for TraceCollector {
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
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|attribute| attribute.key == "service.name")
                .and_then(|attribute| text(attribute.value.as_ref()))
                .unwrap_or_default();
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
                    attributes: span
                        .attributes
                        .iter()
                        .filter_map(|attribute| {
                            Some((attribute.key.clone(), text(attribute.value.as_ref())?))
                        })
                        .collect(),
                });
            }
        }
        self.0.spans.lock().unwrap().extend(spans);
        self.0.arrived.notify_waiters();
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
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
