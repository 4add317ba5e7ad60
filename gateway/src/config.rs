//! Gateway configuration. Shared pieces (bus, JWT, telemetry) are in
//! `pulse-config`; these are the gateway's own.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use clap::Args;
use pulse_auth::MasterKey;
use pulse_config::parse_duration;

use crate::{
    hub::RateLimitConfig,
    principal::KeyCacheConfig,
    service_urls::ServiceUrls,
    session::{RegistryLimits, SessionConfig},
    streams::StreamConfig,
    transport::ListenLimits,
};

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
    /// Most follows one gRPC subscription may name (each group at most once).
    #[arg(long, env = "PULSE_STREAM_MAX_FOLLOWS", default_value_t = 100)]
    pub stream_max_follows: usize,
    /// Where each domain service the hubs call is (`--lists-url`, …).
    #[command(flatten)]
    pub services: ServiceUrls,
    /// The master key for the admin hub; set by the binary from the shared
    /// `PULSE_MASTER_KEY` setting, which the task service reads too.
    #[arg(skip)]
    pub master_key: Option<MasterKey>,
    /// How often each list presence and Lean Coffee connection is confirmed to its service; keep it well under PULSE_PRESENCE_TIMEOUT and PULSE_PARTICIPANT_TIMEOUT.
    #[arg(long, env = "PULSE_PARTICIPANT_HEARTBEAT_INTERVAL", default_value = "15s", value_parser = positive_duration)]
    pub participant_heartbeat_interval: Duration,
    /// Developer demo for the web app at `/`: `POST /demo/token` signs anyone in by the name they
    /// type, and other `/demo/` helpers make a trainer coach a client, create virtual keys and
    /// play the task worker. Never in production; refused when JWTs are RS256 (a production key
    /// the gateway cannot sign with).
    #[arg(long, env = "PULSE_DEMO")]
    pub demo: bool,
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
    /// How often connections past the disconnect timeout are looked for (ASP.NET Core: every second).
    #[arg(long, env = "PULSE_REAP_INTERVAL", default_value = "1s", value_parser = positive_duration)]
    pub reap_interval: Duration,
    /// Wait before subscribing to the bus again after a subscription failed or ended (broker restart).
    #[arg(long, env = "PULSE_BUS_RETRY_DELAY", default_value = "500ms", value_parser = positive_duration)]
    pub bus_retry_delay: Duration,
    /// Wait before retrying a presence exit the service refused for now; doubled for each further try.
    #[arg(long, env = "PULSE_PRESENCE_RETRY_DELAY", default_value = "100ms", value_parser = positive_duration)]
    pub presence_retry_delay: Duration,
    /// Longest a long poll waits for data before it is answered empty (keep it under the JS
    /// client's fixed 100 s poll timeout).
    #[arg(long, env = "PULSE_LONG_POLL_TIMEOUT", default_value = "90s", value_parser = parse_duration)]
    pub long_poll_timeout: Duration,
    /// At shutdown, SignalR connections close (`allowReconnect: true`) spread over this long —
    /// one millisecond apart when that is sooner — so their clients do not all reconnect at once.
    #[arg(long, env = "PULSE_DRAIN_PERIOD", default_value = "10s", value_parser = parse_duration)]
    pub drain_period: Duration,
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
    /// A WebSocket client that takes nothing for this long is closed as a slow consumer; a
    /// closing connection gets as long again to flush its Close.
    #[arg(long, env = "PULSE_WRITE_STALL_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    pub write_stall_timeout: Duration,
    /// After the first frame of a write, wait this long so the frames that follow go out in the
    /// same write (WebSocket, Server-Sent Events and long polling): fewer writes, so less CPU
    /// per delivery when clients get several events a second, for up to this much added
    /// latency. `0s` (the default) writes at once; at most 1 s.
    #[arg(long, env = "PULSE_WRITE_DELAY", default_value = "0s", value_parser = write_delay)]
    pub write_delay: Duration,
    /// Time a client has to send a request's headers (slowloris).
    #[arg(long, env = "PULSE_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    pub header_read_timeout: Duration,
    /// Connections that have not sent a complete request yet, from all addresses.
    #[arg(
        long,
        env = "PULSE_MAX_HANDSHAKING_CONNECTIONS",
        default_value_t = 1024
    )]
    pub max_handshaking_connections: usize,
    /// Connections that have not sent a complete request yet, from one address.
    #[arg(
        long,
        env = "PULSE_MAX_HANDSHAKING_CONNECTIONS_PER_ADDRESS",
        default_value_t = 64
    )]
    pub max_handshaking_connections_per_address: usize,
    /// Wait before accepting again after accepting a connection failed (out of file descriptors, usually).
    #[arg(long, env = "PULSE_ACCEPT_RETRY_DELAY", default_value = "50ms", value_parser = positive_duration)]
    pub accept_retry_delay: Duration,
    /// Deadline of each call to a domain service.
    #[arg(long, env = "PULSE_SERVICE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub service_timeout: Duration,
    /// Groups one connection may be in at once (each is a broker consumer); a join over it fails.
    #[arg(long, env = "PULSE_MAX_GROUPS_PER_CONNECTION", default_value_t = 100)]
    pub max_groups_per_connection: usize,
    /// Hub invocations per second one connection may sustain; excess ones fail with a hub error.
    #[arg(long, env = "PULSE_INVOCATIONS_PER_SECOND", default_value = "20")]
    pub invocations_per_second: NonZeroU32,
    /// Hub invocations one connection may make at once after a quiet spell.
    #[arg(long, env = "PULSE_INVOCATION_BURST", default_value = "40")]
    pub invocation_burst: NonZeroU32,
    /// Calls per second of one write command by one user or virtual key (all their connections).
    #[arg(long, env = "PULSE_WRITES_PER_SECOND", default_value = "10")]
    pub writes_per_second: NonZeroU32,
    /// Calls of one write command by one user or virtual key at once after a quiet spell.
    #[arg(long, env = "PULSE_WRITE_BURST", default_value = "50")]
    pub write_burst: NonZeroU32,
    /// Connections one user may hold on this gateway at once; negotiate/connect over it gets 429.
    #[arg(long, env = "PULSE_MAX_CONNECTIONS_PER_USER", default_value_t = 100)]
    pub max_connections_per_user: usize,
    /// Connections one virtual key (or the master key) may hold on this gateway at once; over it: 429.
    #[arg(long, env = "PULSE_MAX_CONNECTIONS_PER_KEY", default_value_t = 1000)]
    pub max_connections_per_key: usize,
    /// Negotiated connections no transport has taken yet, all users together; over it negotiate gets 503.
    #[arg(long, env = "PULSE_MAX_PENDING_CONNECTIONS", default_value_t = 10_000)]
    pub max_pending_connections: usize,
    /// Bytes sent for negotiated connections before a transport took them, all together; over it: 503.
    #[arg(long, env = "PULSE_MAX_PENDING_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_pending_bytes: usize,
    /// How long a virtual key the task service accepted is trusted without asking again (0: always ask); a revocation clears it at once.
    #[arg(long, env = "PULSE_KEY_CACHE_TTL", default_value = "5s", value_parser = parse_duration)]
    pub key_cache_ttl: Duration,
    /// Virtual keys remembered at once by that cache.
    #[arg(long, env = "PULSE_KEY_CACHE_SIZE", default_value_t = 10_000)]
    pub key_cache_size: usize,
}

impl GatewayConfig {
    pub fn streams(&self) -> StreamConfig {
        StreamConfig {
            heartbeat_interval: self.stream_heartbeat_interval,
            queue_bytes: self.stream_queue_bytes,
            max_follows: self.stream_max_follows,
        }
    }

    pub fn rate_limits(&self) -> RateLimitConfig {
        RateLimitConfig {
            invocations_per_second: self.invocations_per_second,
            invocation_burst: self.invocation_burst,
            writes_per_second: self.writes_per_second,
            write_burst: self.write_burst,
        }
    }

    pub fn key_cache(&self) -> KeyCacheConfig {
        KeyCacheConfig {
            ttl: self.key_cache_ttl,
            capacity: self.key_cache_size,
        }
    }

    pub fn registry_limits(&self) -> RegistryLimits {
        RegistryLimits {
            connections_per_user: self.max_connections_per_user,
            connections_per_key: self.max_connections_per_key,
            pending_connections: self.max_pending_connections,
            pending_bytes: self.max_pending_bytes,
        }
    }

    pub fn listen(&self) -> ListenLimits {
        ListenLimits {
            header_read_timeout: self.header_read_timeout,
            max_handshaking: self.max_handshaking_connections,
            max_handshaking_per_address: self.max_handshaking_connections_per_address,
            accept_retry_delay: self.accept_retry_delay,
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
            write_delay: self.write_delay,
        }
    }
}

/// The longest write delay: well inside the client's 30 s server timeout and the stall timeout,
/// and more than any latency an operator would trade for CPU.
const MAX_WRITE_DELAY: Duration = Duration::from_secs(1);

/// A write delay: zero or more, at most [`MAX_WRITE_DELAY`].
fn write_delay(value: &str) -> Result<Duration, String> {
    match parse_duration(value)? {
        delay if delay > MAX_WRITE_DELAY => Err(format!("must be at most {MAX_WRITE_DELAY:?}")),
        delay => Ok(delay),
    }
}

/// A duration greater than zero (a zero period would spin).
fn positive_duration(value: &str) -> Result<Duration, String> {
    match parse_duration(value)? {
        duration if duration.is_zero() => Err("must be greater than zero".into()),
        duration => Ok(duration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_delay_is_zero_to_one_second() {
        assert_eq!(write_delay("0s"), Ok(Duration::ZERO));
        assert_eq!(write_delay("20ms"), Ok(Duration::from_millis(20)));
        assert_eq!(write_delay("1s"), Ok(MAX_WRITE_DELAY));
        assert!(write_delay("1001ms").is_err());
        assert!(write_delay("soon").is_err());
    }
}
