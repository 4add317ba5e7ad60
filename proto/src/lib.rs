//! Generated protobuf types and gRPC stubs for the whole suite.
//!
//! The `.proto` files under `proto/` are the source of truth. Domain messages
//! carry serde derives so the same definition encodes an event for SignalR
//! JSON, SignalR MessagePack and gRPC.

/// Encoded `FileDescriptorSet` of every .proto file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/pulse_descriptor.bin"));

pub mod lists {
    pub mod v1 {
        tonic::include_proto!("pulse.lists.v1");
    }
    mod event_facts;
}

pub mod leancoffee {
    pub mod v1 {
        tonic::include_proto!("pulse.leancoffee.v1");
    }
    mod event_facts;
}

pub mod coaching {
    pub mod v1 {
        tonic::include_proto!("pulse.coaching.v1");
    }
    mod event_facts;
}

pub mod tasks {
    pub mod v1 {
        tonic::include_proto!("pulse.tasks.v1");
    }
    mod event_facts;
}

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
mod event_name;
mod timestamp;

pub use event_facts::{revoked_member, EventFacts};
pub use event_name::EventName;
pub use timestamp::timestamp;
