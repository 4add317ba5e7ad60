//! The export task: every interval, render the sources, convert, send; one export at a time.

use std::{
    sync::{atomic::Ordering, Arc},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use opentelemetry_proto::{
    tonic::{
        collector::metrics::v1::{
            metrics_service_client::MetricsServiceClient, ExportMetricsServiceRequest,
        },
        metrics::v1::ResourceMetrics,
        resource::v1::Resource as ProtoResource,
    },
    transform::common::tonic::ResourceAttributesWithSchema,
};
use opentelemetry_sdk::Resource;
use tokio::{
    sync::Notify,
    time::{Instant, MissedTickBehavior},
};
use tonic::transport::{Channel, Endpoint};

use super::{
    exposition,
    otlp::{self, Times},
    MetricSchedule, Sources, FAILED,
};
use crate::ExportError;

/// The shortest interval taken: a zero one would export in a busy loop.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// A running export task; it ends when this is dropped.
#[derive(Debug)]
pub(crate) struct MetricExporter {
    sources: Arc<Sources>,
    stop: Arc<Notify>,
}

impl MetricExporter {
    /// Starts exporting to `endpoint` (`http://host:4317`) on the current runtime (there must
    /// be one), under `resource`. Nothing is exported until a source is registered.
    pub(crate) fn start(
        resource: &Resource,
        endpoint: &str,
        schedule: MetricSchedule,
    ) -> Result<Self, ExportError> {
        tokio::runtime::Handle::try_current().map_err(|_| ExportError::NoRuntime)?;
        let channel = Endpoint::from_shared(endpoint.to_owned())?
            .connect_timeout(schedule.timeout)
            .timeout(schedule.timeout)
            .connect_lazy();
        let resource = ProtoResource {
            attributes: ResourceAttributesWithSchema::from(resource).attributes.0,
            ..Default::default()
        };
        let sources = Arc::new(Sources::default());
        let stop = Arc::new(Notify::new());
        tokio::spawn(run(
            MetricsServiceClient::new(channel),
            resource,
            sources.clone(),
            schedule,
            stop.clone(),
        ));
        Ok(Self { sources, stop })
    }

    pub(crate) fn sources(&self) -> Arc<Sources> {
        self.sources.clone()
    }
}

impl Drop for MetricExporter {
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}

/// Exports every `schedule.interval` until stopped. The next interval starts when an export
/// ends, so a slow collector spaces exports out instead of stacking them.
async fn run(
    mut client: MetricsServiceClient<Channel>,
    resource: ProtoResource,
    sources: Arc<Sources>,
    schedule: MetricSchedule,
    stop: Arc<Notify>,
) {
    let interval = schedule.interval.max(MIN_INTERVAL);
    let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let start = unix_nanos();
    let mut failing = false;
    loop {
        tokio::select! {
            () = stop.notified() => return,
            _ = ticks.tick() => {}
        }
        let export = export(&mut client, &resource, &sources, start);
        let outcome = tokio::select! {
            () = stop.notified() => return,
            outcome = tokio::time::timeout(schedule.timeout, export) => outcome,
        };
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(status)) => Some(status.to_string()),
            Err(_) => Some(format!("no answer within {:?}", schedule.timeout)),
        };
        match error {
            None if failing => {
                failing = false;
                tracing::info!("metric export works again");
            }
            None => {}
            Some(error) => {
                FAILED.fetch_add(1, Ordering::Relaxed);
                if !failing {
                    failing = true;
                    tracing::warn!(%error, "metric export failed; exports are dropped until it works again");
                }
            }
        }
    }
}

/// One export of every source's metrics; nothing is sent while no source is registered.
async fn export(
    client: &mut MetricsServiceClient<Channel>,
    resource: &ProtoResource,
    sources: &Sources,
    start: u64,
) -> Result<(), tonic::Status> {
    let mut scope_metrics = Vec::new();
    for (scope, source) in sources.snapshot() {
        let text = source().await;
        let times = Times {
            start,
            now: unix_nanos(),
        };
        scope_metrics.push(otlp::scope_metrics(scope, &exposition::parse(&text), times));
    }
    if scope_metrics.is_empty() {
        return Ok(());
    }
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource.clone()),
            scope_metrics,
            schema_url: String::new(),
        }],
    };
    client.export(request).await.map(|_| ())
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}
