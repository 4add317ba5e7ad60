//! Gateway configuration. Shared pieces (bus, JWT, telemetry) are in
//! `pulse-config`; these are the gateway's own.

use std::{net::SocketAddr, time::Duration};

use clap::Args;
use pulse_auth::MasterKey;
use pulse_config::parse_duration;

use crate::{session::SessionConfig, streams::StreamConfig};

#[derive(Debug, Clone, Args)]
pub struct GatewayConfig {
    /// Address the SignalR endpoints listen on (port 0 picks a free port).
    #[arg(long, env = "PULSE_GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    pub gateway_addr: SocketAddr,
    /// Address of the gRPC subscription API for native clients.
    #[arg(
        long,
        env = "PULSE_GATEWAY_GRPC_ADDR",
        default_value = "127.0.0.1:8081"
    )]
    pub gateway_grpc_addr: SocketAddr,
    /// Heartbeat interval on an idle gRPC subscription.
    #[arg(long, env = "PULSE_STREAM_HEARTBEAT_INTERVAL", default_value = "15s", value_parser = parse_duration)]
    pub stream_heartbeat_interval: Duration,
    /// Bytes of events that may wait for a slow gRPC subscriber before its stream ends.
    #[arg(long, env = "PULSE_STREAM_QUEUE_BYTES", default_value_t = 1024 * 1024)]
    pub stream_queue_bytes: usize,
    /// gRPC URL of the shopping-list service.
    #[arg(
        long,
        env = "PULSE_LISTS_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub lists_url: String,
    /// gRPC URL of the Lean Coffee service.
    #[arg(
        long,
        env = "PULSE_LEAN_COFFEE_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub lean_coffee_url: String,
    /// gRPC URL of the coaching service (chat, goals, notifications).
    #[arg(
        long,
        env = "PULSE_COACHING_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub coaching_url: String,
    /// gRPC URL of the task-notification service (virtual keys, tasks, spend).
    #[arg(
        long,
        env = "PULSE_TASKS_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    pub tasks_url: String,
    /// The master key for the admin hub; set by the binary from the shared
    /// `PULSE_MASTER_KEY` setting, which the task service reads too.
    #[arg(skip)]
    pub master_key: Option<MasterKey>,
    /// How often each list presence and Lean Coffee connection is confirmed to its service; keep it well under PULSE_PRESENCE_TIMEOUT and PULSE_PARTICIPANT_TIMEOUT.
    #[arg(long, env = "PULSE_PARTICIPANT_HEARTBEAT_INTERVAL", default_value = "15s", value_parser = positive_duration)]
    pub participant_heartbeat_interval: Duration,
    /// Browser origins allowed by CORS, comma-separated; `*` mirrors any origin.
    #[arg(long, env = "PULSE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Interval of the server's keep-alive Ping.
    #[arg(long, env = "PULSE_KEEP_ALIVE_INTERVAL", default_value = "15s", value_parser = parse_duration)]
    pub keep_alive_interval: Duration,
    /// Close a client silent this long (after its first Ping).
    #[arg(long, env = "PULSE_CLIENT_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub client_timeout: Duration,
    /// Time a client has to complete the SignalR handshake.
    #[arg(long, env = "PULSE_HANDSHAKE_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Largest incoming hub message in bytes.
    #[arg(long, env = "PULSE_MAX_MESSAGE_SIZE", default_value_t = 32 * 1024)]
    pub max_message_size: usize,
    /// Bytes that may wait for a slow client before it is disconnected.
    #[arg(long, env = "PULSE_OUTGOING_QUEUE_BYTES", default_value_t = 1024 * 1024)]
    pub outgoing_queue_bytes: usize,
    /// Negotiated connections that no transport takes within this are dropped.
    #[arg(long, env = "PULSE_DISCONNECT_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub disconnect_timeout: Duration,
    /// Longest a long poll waits for data before it is answered empty (keep it under the JS
    /// client's fixed 100 s poll timeout).
    #[arg(long, env = "PULSE_LONG_POLL_TIMEOUT", default_value = "90s", value_parser = parse_duration)]
    pub long_poll_timeout: Duration,
    /// Offer stateful reconnect to clients that ask for it (`withStatefulReconnect()`).
    #[arg(long, env = "PULSE_STATEFUL_RECONNECT", default_value_t = true, action = clap::ArgAction::Set)]
    pub stateful_reconnect: bool,
    /// Bytes of sent, unacknowledged messages kept per stateful-reconnect connection for replay.
    #[arg(
        long,
        env = "PULSE_STATEFUL_RECONNECT_BUFFER_BYTES",
        default_value_t = 100_000
    )]
    pub stateful_reconnect_buffer_bytes: usize,
    /// Deadline of each call to a domain service.
    #[arg(long, env = "PULSE_SERVICE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub service_timeout: Duration,
}

impl GatewayConfig {
    pub fn streams(&self) -> StreamConfig {
        StreamConfig {
            heartbeat_interval: self.stream_heartbeat_interval,
            queue_bytes: self.stream_queue_bytes,
        }
    }

    pub fn session(&self) -> SessionConfig {
        SessionConfig {
            keep_alive_interval: self.keep_alive_interval,
            client_timeout: self.client_timeout,
            handshake_timeout: self.handshake_timeout,
            max_message_size: self.max_message_size,
            outgoing_queue_bytes: self.outgoing_queue_bytes,
            stateful_buffer_bytes: self.stateful_reconnect_buffer_bytes,
        }
    }
}

/// A duration greater than zero (a zero period would spin).
fn positive_duration(value: &str) -> Result<Duration, String> {
    match parse_duration(value)? {
        duration if duration.is_zero() => Err("must be greater than zero".into()),
        duration => Ok(duration),
    }
}
