//! Gateway configuration. Shared pieces (bus, JWT, telemetry) are in
//! `pulse-config`; these are the gateway's own.

use std::{net::SocketAddr, time::Duration};

use clap::Args;
use pulse_config::parse_duration;

use crate::session::SessionConfig;

#[derive(Debug, Clone, Args)]
pub struct GatewayConfig {
    /// Address the SignalR endpoints listen on (port 0 picks a free port).
    #[arg(long, env = "PULSE_GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    pub gateway_addr: SocketAddr,
    /// gRPC URL of the shopping-list service.
    #[arg(
        long,
        env = "PULSE_LISTS_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub lists_url: String,
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
    /// Deadline of each call to a domain service.
    #[arg(long, env = "PULSE_SERVICE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub service_timeout: Duration,
}

impl GatewayConfig {
    pub fn session(&self) -> SessionConfig {
        SessionConfig {
            keep_alive_interval: self.keep_alive_interval,
            client_timeout: self.client_timeout,
            handshake_timeout: self.handshake_timeout,
            max_message_size: self.max_message_size,
            outgoing_queue_bytes: self.outgoing_queue_bytes,
        }
    }
}
