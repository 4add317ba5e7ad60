//! Compiles the .proto files with `protox` (pure Rust, no system `protoc`) and
//! generates prost messages and tonic services into `OUT_DIR`, plus the encoded
//! file-descriptor set that gRPC server reflection serves, the dispatch
//! from each event of the envelope to its payload's facts (`event_facts.rs`),
//! and each domain's module (`domains.rs`), so `src/lib.rs` lists none.

use std::{env, fs, path::PathBuf};

use prost::Message;

/// The packages that are not a domain's: the bus envelope and the gateway's
/// own API. Every other folder under `pulse/` is a domain, found by
/// [`proto_files`], so a new domain needs no line here.
const SHARED_PACKAGES: &[&str] = &["events", "gateway"];

/// Domain messages double as JSON/MessagePack payloads: camelCase keys, every
/// field written (None as null), missing fields read as defaults.
const PAYLOAD_ATTRIBUTES: &str =
    "#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = \"camelCase\", default)]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let (protos, domains) = proto_files()?;
    let descriptors = protox::compile(&protos, ["."])?;
    fs::write(
        out_dir.join("pulse_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    let events = descriptors
        .file
        .iter()
        .filter(|file| file.package() == "pulse.events.v1")
        .flat_map(|file| &file.message_type)
        .find(|message| message.name() == "Event")
        .ok_or("pulse.events.v1.Event is missing")?;
    let arms: String = events
        .field
        .iter()
        .map(|field| event_arm(field.name()))
        .collect();
    fs::write(
        out_dir.join("event_facts.rs"),
        format!(
            "/// The facts of an event's payload (generated from `Event.kind`).\n\
             pub(crate) fn facts(kind: &Kind) -> &dyn EventFacts {{\n\
             match kind {{\n{arms}}}\n}}\n"
        ),
    )?;

    fs::write(out_dir.join("domains.rs"), domain_modules(&domains)?)?;

    let mut builder = tonic_prost_build::configure();
    for domain in &domains {
        builder = builder.message_attribute(format!(".pulse.{domain}.v1"), PAYLOAD_ATTRIBUTES);
    }
    builder
        // The event oneof serializes as its payload alone; its variant name is
        // the SignalR target ("ItemAdded").
        .enum_attribute(
            ".pulse.events.v1.Event.kind",
            "#[derive(serde::Serialize, strum::IntoStaticStr)] #[serde(untagged)]",
        )
        // Keeps the subscription message's variants of similar size.
        .boxed(".pulse.gateway.v1.SubscriptionMessage.kind.event")
        .compile_fds(descriptors)?;

    for proto in &protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    println!("cargo:rerun-if-changed=pulse");
    Ok(())
}

/// Every `.proto` file under `pulse/*/v1/`, sorted, and the domains: the
/// folders that are not [`SHARED_PACKAGES`].
fn proto_files() -> Result<(Vec<String>, Vec<String>), Box<dyn std::error::Error>> {
    let (mut protos, mut domains) = (Vec::new(), Vec::new());
    for package in fs::read_dir("pulse")? {
        let package = package?.file_name().to_string_lossy().into_owned();
        for file in fs::read_dir(format!("pulse/{package}/v1"))? {
            let file = file?.file_name().to_string_lossy().into_owned();
            if file.ends_with(".proto") {
                protos.push(format!("pulse/{package}/v1/{file}"));
            }
        }
        if !SHARED_PACKAGES.contains(&package.as_str()) {
            domains.push(package);
        }
    }
    protos.sort();
    domains.sort();
    Ok((protos, domains))
}

/// A module per domain: its generated types (`pulse::lists::v1`) and the
/// facts of its events, from `src/{domain}/event_facts.rs` (a domain without
/// that file does not compile).
fn domain_modules(domains: &[String]) -> Result<String, Box<dyn std::error::Error>> {
    let src = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("src");
    Ok(domains
        .iter()
        .map(|domain| {
            let facts = src.join(domain).join("event_facts.rs");
            format!(
                "pub mod {domain} {{\n\
                 pub mod v1 {{\n\
                 tonic::include_proto!(\"pulse.{domain}.v1\");\n\
                 }}\n\
                 #[path = {facts:?}]\n\
                 mod event_facts;\n\
                 }}\n"
            )
        })
        .collect())
}

/// One arm of the generated dispatch: the oneof variant, prost's PascalCase
/// of the field name (`item_added` is `Kind::ItemAdded`), to its payload.
fn event_arm(field: &str) -> String {
    let variant: String = field
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    format!("Kind::{variant}(event) => event,\n")
}
