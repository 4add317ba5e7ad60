use std::time::Duration;

/// Per-connection limits and timers (ASP.NET Core's defaults unless
/// configured otherwise).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// A Ping is sent at this interval so the client's 30 s server timeout
    /// never fires on an idle connection.
    pub keep_alive_interval: Duration,
    /// Close a client silent this long, counted only after its first Ping.
    pub client_timeout: Duration,
    /// How long the client has to send its handshake.
    pub handshake_timeout: Duration,
    /// Largest incoming hub message (and handshake).
    pub max_message_size: usize,
    /// Bytes queued for a client before it counts as too slow and is closed.
    pub outgoing_queue_bytes: usize,
    /// Bytes of sent, unacknowledged messages a stateful-reconnect connection keeps for replay
    /// (.NET's `StatefulReconnectBufferSize`).
    pub stateful_buffer_bytes: usize,
    /// How long a transport waits after the first frame of a write before writing, so frames
    /// that follow go out in the same write (Centrifugo PRO's `client.write_delay`). A write
    /// to a socket costs about as much CPU as the fan-out of a frame to it: a client that gets
    /// several events in this window takes one write instead of several, at the cost of up to
    /// this much latency. Zero writes at once.
    pub write_delay: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            keep_alive_interval: Duration::from_secs(15),
            client_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(15),
            max_message_size: 32 * 1024,
            outgoing_queue_bytes: 1024 * 1024,
            stateful_buffer_bytes: 100_000,
            write_delay: Duration::ZERO,
        }
    }
}
