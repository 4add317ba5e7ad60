//! Compiles the .proto files with `protox` (pure Rust, no system `protoc`) and
//! generates prost messages and tonic services into `OUT_DIR`, plus the encoded
//! file-descriptor set that gRPC server reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "pulse/lists/v1/lists.proto",
    "pulse/leancoffee/v1/lean_coffee.proto",
    "pulse/coaching/v1/coaching.proto",
    "pulse/tasks/v1/tasks.proto",
    "pulse/events/v1/envelope.proto",
    "pulse/gateway/v1/subscriptions.proto",
];

/// Domain messages double as JSON/MessagePack payloads: camelCase keys, every
/// field written (None as null), missing fields read as defaults.
const PAYLOAD_ATTRIBUTES: &str =
    "#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = \"camelCase\", default)]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptors = protox::compile(PROTOS, ["."])?;
    fs::write(
        out_dir.join("pulse_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .message_attribute(".pulse.lists.v1", PAYLOAD_ATTRIBUTES)
        .message_attribute(".pulse.leancoffee.v1", PAYLOAD_ATTRIBUTES)
        .message_attribute(".pulse.coaching.v1", PAYLOAD_ATTRIBUTES)
        .message_attribute(".pulse.tasks.v1", PAYLOAD_ATTRIBUTES)
        // The event oneof serializes as its payload alone; its variant name is
        // the SignalR target ("ItemAdded").
        .enum_attribute(
            ".pulse.events.v1.Event.kind",
            "#[derive(serde::Serialize, strum::IntoStaticStr)] #[serde(untagged)]",
        )
        // Keeps the subscription message's variants of similar size.
        .boxed(".pulse.gateway.v1.SubscriptionMessage.kind.event")
        .compile_fds(descriptors)?;

    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    println!("cargo:rerun-if-changed=pulse");
    Ok(())
}
