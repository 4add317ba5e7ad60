//! Configuration pieces every binary shares, as clap argument groups that
//! binaries `#[command(flatten)]`. Each field reads `--flag` or the
//! environment variable named beside it; the doc line is the README's table.

use std::time::Duration;

use clap::Args;
use pulse_auth::{JwtKeys, JwtValidator, MasterKey, MIN_MASTER_KEY_LEN};
use pulse_bus::{Bus, BusError, Namespace, StreamReplicas};
use pulse_telemetry::{LogFormat, MetricSchedule, Telemetry};
use secrecy::SecretString;

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Parses durations written like `15s`, `500ms`, `7days`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Args)]
pub struct BusArgs {
    /// NATS server URL (JetStream enabled); a cluster's servers separated by commas.
    #[arg(long, env = "PULSE_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Prefix of every subject and stream, isolating deployments on one broker.
    #[arg(long, env = "PULSE_BUS_NAMESPACE", default_value = "pulse")]
    pub bus_namespace: String,
    /// How long JetStream keeps events (the window in which clients can resume).
    #[arg(long, env = "PULSE_EVENT_RETENTION", default_value = "7days", value_parser = parse_duration)]
    pub event_retention: Duration,
    /// Copies of each JetStream stream: 1 on one server, 3 on a cluster (1 to 5).
    #[arg(long, env = "PULSE_STREAM_REPLICAS", default_value = "1", value_parser = parse_replicas)]
    pub stream_replicas: StreamReplicas,
}

fn parse_replicas(value: &str) -> Result<StreamReplicas, String> {
    value
        .parse()
        .ok()
        .and_then(StreamReplicas::new)
        .ok_or_else(|| format!("expected 1 to {} copies", StreamReplicas::MAX))
}

impl BusArgs {
    pub fn namespace(&self) -> Result<Namespace, ConfigError> {
        Ok(Namespace::new(&self.bus_namespace)?)
    }

    /// Connects in the background: a broker that is down at start-up is
    /// retried, and nothing here waits for it.
    pub async fn connect(&self) -> Result<Bus, ConfigError> {
        Ok(Bus::connect(&self.nats_url, self.namespace()?)
            .await?
            .with_stream_replicas(self.stream_replicas))
    }
}

#[derive(Clone, Args)]
pub struct AuthArgs {
    /// HS256 secret that signs user JWTs. Required unless a public key is given.
    #[arg(long, env = "PULSE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Path of a PEM RSA public key: validate RS256 JWTs instead of HS256.
    #[arg(long, env = "PULSE_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for AuthArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthArgs")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("jwt_public_key_file", &self.jwt_public_key_file)
            .finish()
    }
}

impl AuthArgs {
    pub fn keys(&self) -> Result<JwtKeys, ConfigError> {
        match (&self.jwt_public_key_file, &self.jwt_secret) {
            (Some(path), _) => std::fs::read_to_string(path)
                .map(JwtKeys::Rs256PublicPem)
                .map_err(|e| ConfigError::Invalid(format!("cannot read {}: {e}", path.display()))),
            (None, Some(secret)) if !secret.is_empty() => {
                Ok(JwtKeys::Hs256(SecretString::from(secret.clone())))
            }
            _ => Err(ConfigError::Invalid(
                "set PULSE_JWT_SECRET (HS256) or PULSE_JWT_PUBLIC_KEY_FILE (RS256)".into(),
            )),
        }
    }

    pub fn validator(&self) -> Result<JwtValidator, ConfigError> {
        JwtValidator::new(&self.keys()?).map_err(|e| ConfigError::Invalid(e.to_string()))
    }
}

#[derive(Clone, Args)]
pub struct MasterKeyArgs {
    /// The master key (at least 16 characters): admins manage virtual keys and follow the admin hub with it. Unset: nobody can.
    #[arg(long, env = "PULSE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
}

impl std::fmt::Debug for MasterKeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeyArgs")
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl MasterKeyArgs {
    /// `None` when no master key is configured.
    pub fn master_key(&self) -> Result<Option<MasterKey>, ConfigError> {
        match self.master_key.as_deref() {
            None | Some("") => Ok(None),
            Some(key) => MasterKey::new(key).map(Some).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "PULSE_MASTER_KEY must be at least {MIN_MASTER_KEY_LEN} characters"
                ))
            }),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct TelemetryArgs {
    /// Log line format: `text` or `json`. Levels come from `RUST_LOG`.
    #[arg(long, env = "PULSE_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// OTLP/gRPC collector that spans and metrics are exported to
    /// (`http://host:4317`); unset: no export. `OTEL_SERVICE_NAME`,
    /// `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_RESOURCE_ATTRIBUTES` apply as the
    /// OpenTelemetry SDK defines them.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// OTLP/gRPC collector that metrics go to instead (spans stay on
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`); with it alone, only metrics are exported.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")]
    pub otlp_metrics_endpoint: Option<String>,
    /// Milliseconds between two exports of the metrics `/metrics` shows.
    #[arg(long, env = "OTEL_METRIC_EXPORT_INTERVAL", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub metric_export_interval: u64,
    /// Milliseconds one metric export may take; a slower one is dropped and
    /// counted in `pulse_metric_exports_failed_total`.
    #[arg(long, env = "OTEL_METRIC_EXPORT_TIMEOUT", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub metric_export_timeout: u64,
}

impl TelemetryArgs {
    /// The binary's telemetry, under its service name.
    pub fn telemetry(&self, service_name: &'static str) -> Telemetry {
        Telemetry::new(service_name)
            .log_format(self.log_format)
            .otlp_endpoint(self.otlp_endpoint.clone())
            .otlp_metrics_endpoint(self.otlp_metrics_endpoint.clone())
            .metric_schedule(MetricSchedule {
                interval: Duration::from_millis(self.metric_export_interval),
                timeout: Duration::from_millis(self.metric_export_timeout),
            })
    }
}
