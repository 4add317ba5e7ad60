use thiserror::Error;

/// A bus operation that did not happen. Every variant is transient from the
/// caller's point of view except `Config`: publishers retry, subscribers
/// resubscribe.
#[derive(Debug, Error)]
pub enum BusError {
    #[error("cannot connect to the broker: {0}")]
    Connect(String),
    #[error("broker did not acknowledge the publish: {0}")]
    Publish(String),
    #[error("subscription failed: {0}")]
    Subscribe(String),
    #[error("stream setup failed: {0}")]
    Config(String),
}
