//! Generated protobuf types and gRPC stubs for the whole suite.
//!
//! The `.proto` files under `proto/` are the source of truth. Domain messages
//! carry serde derives so the same definition encodes an event for SignalR
//! JSON, SignalR MessagePack and gRPC.

/// Encoded `FileDescriptorSet` of every .proto file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/pulse_descriptor.bin"));

// One module per domain (`lists`, `leancoffee`, `coaching`, `tasks`), each
// with its generated `v1`, its `event_facts` and its group kinds: written by
// `build.rs` for every folder under `pulse/`, so a new domain adds no line
// here.
include!(concat!(env!("OUT_DIR"), "/domains.rs"));

// `GROUP_KINDS`: every domain's group kinds, also from `build.rs`.
include!(concat!(env!("OUT_DIR"), "/group_kinds.rs"));

pub mod gateway {
    pub mod v1 {
        tonic::include_proto!("pulse.gateway.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("pulse.events.v1");
    }
}

mod event_facts;
mod event_kind;
mod event_name;
#[cfg(test)]
mod group_kinds;
mod timestamp;

pub use event_facts::{revoked_key, revoked_member, EventFacts};
pub use event_kind::EventKind;
pub use event_name::EventName;
pub use timestamp::timestamp;
