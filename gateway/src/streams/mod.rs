//! gRPC server streams for native clients: the same events as the hubs, the
//! same authorization, plus resume from a group sequence.
//!
//! A subscription joins the node like a SignalR connection (one shared bus
//! subscription per group), so live events arrive with no extra broker cost.
//! Resuming replays the retained history of a group from JetStream while live
//! events already queue behind it; the group sequence removes the overlap, so
//! the client sees neither a gap nor a duplicate.

mod encoder;
mod replay;
mod service;

pub use service::{StreamConfig, SubscriptionService};
