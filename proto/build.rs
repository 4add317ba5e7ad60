//! Compiles the .proto files with `protox` (pure Rust, no system `protoc`) and
//! generates prost messages and tonic services into `OUT_DIR`, plus the encoded
//! file-descriptor set that gRPC server reflection serves, each domain's module
//! (`domains.rs`, so `src/lib.rs` lists none), the registry of every domain's
//! group kinds (`group_kinds.rs`) and, from the two levels of
//! event oneof (the envelope's domains, each domain's events), the macro calls
//! that give every domain's events their names, facts and conversions
//! (`events.rs`, see `src/event_kind.rs`), so no shared file lists the events
//! or the group kinds.

use std::{env, fs, path::PathBuf};

use prost::Message;
use protox::prost_reflect::prost_types::{DescriptorProto, FileDescriptorSet};

/// The packages that are not a domain's: the bus envelope and the gateway's
/// own API. Every other folder under `pulse/` is a domain, found by
/// [`proto_files`], so a new domain needs no line here.
const SHARED_PACKAGES: &[&str] = &["events", "gateway"];

/// Domain messages double as JSON/MessagePack payloads: camelCase keys, every
/// field written (None as null), missing fields read as defaults.
const PAYLOAD_ATTRIBUTES: &str =
    "#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = \"camelCase\", default)]";

/// An event message (the envelope's `Event`, a domain's `Event`) serializes
/// as its oneof alone...
const EVENT_ATTRIBUTES: &str = "#[derive(serde::Serialize)] #[serde(transparent)]";

/// ...and the oneof as the payload alone: a SignalR client sees the event's
/// object, its name being the invocation's target.
const ONEOF_ATTRIBUTES: &str = "#[derive(serde::Serialize)] #[serde(untagged)]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let (protos, domains) = proto_files()?;
    let descriptors = protox::compile(&protos, ["."])?;
    fs::write(
        out_dir.join("pulse_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    fs::write(out_dir.join("domains.rs"), domain_modules(&domains)?)?;
    fs::write(out_dir.join("group_kinds.rs"), group_kinds(&domains))?;
    fs::write(
        out_dir.join("events.rs"),
        event_macros(&descriptors, &domains)?,
    )?;

    let mut builder = tonic_prost_build::configure()
        .message_attribute(".pulse.events.v1.Event", EVENT_ATTRIBUTES)
        .enum_attribute(".pulse.events.v1.Event.domain", ONEOF_ATTRIBUTES);
    for domain in &domains {
        for message in messages(&descriptors, domain) {
            let name = message.name();
            let path = format!(".pulse.{domain}.v1.{name}");
            builder = if name == "Event" {
                // Not a payload but the oneof of the domain's events, whose
                // variant name is the SignalR target ("ItemAdded").
                builder
                    .message_attribute(&path, EVENT_ATTRIBUTES)
                    .enum_attribute(format!("{path}.kind"), ONEOF_ATTRIBUTES)
                    .enum_attribute(format!("{path}.kind"), "#[derive(strum::IntoStaticStr)]")
            } else {
                builder.message_attribute(&path, PAYLOAD_ATTRIBUTES)
            };
        }
    }
    builder
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

/// A module per domain: its generated types (`pulse::lists::v1`), the
/// facts of its events, from `src/{domain}/event_facts.rs`, and its group
/// kinds, from `src/{domain}/groups.rs` (a domain without either file does
/// not compile), re-exported as the domain's own (`lists::LIST`).
fn domain_modules(domains: &[String]) -> Result<String, Box<dyn std::error::Error>> {
    let src = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("src");
    Ok(domains
        .iter()
        .map(|domain| {
            let facts = src.join(domain).join("event_facts.rs");
            let groups = src.join(domain).join("groups.rs");
            format!(
                "pub mod {domain} {{\n\
                 pub mod v1 {{\n\
                 tonic::include_proto!(\"pulse.{domain}.v1\");\n\
                 }}\n\
                 #[path = {facts:?}]\n\
                 mod event_facts;\n\
                 #[path = {groups:?}]\n\
                 mod groups;\n\
                 pub use groups::*;\n\
                 }}\n"
            )
        })
        .collect())
}

/// `GROUP_KINDS`, the registry of every domain's kinds (each domain's
/// `GROUP_KINDS`), which reads group names back and lists the streams.
fn group_kinds(domains: &[String]) -> String {
    let lists: Vec<String> = domains
        .iter()
        .map(|domain| format!("{domain}::GROUP_KINDS"))
        .collect();
    format!(
        "/// Every domain's group kinds.\n\
         pub const GROUP_KINDS: pulse_groups::GroupKinds =\n\
         pulse_groups::GroupKinds::new(&[{}]);\n",
        lists.join(", ")
    )
}

/// The top-level messages of package `pulse.{package}.v1` (a domain's, or
/// `events` for the envelope).
fn messages<'a>(
    descriptors: &'a FileDescriptorSet,
    package: &str,
) -> impl Iterator<Item = &'a DescriptorProto> {
    let package = format!("pulse.{package}.v1");
    descriptors
        .file
        .iter()
        .filter(move |file| file.package() == package)
        .flat_map(|file| &file.message_type)
}

/// The message `Event` of package `pulse.{package}.v1`.
fn event_message<'a>(
    descriptors: &'a FileDescriptorSet,
    package: &str,
) -> Result<&'a DescriptorProto, String> {
    messages(descriptors, package)
        .find(|message| message.name() == "Event")
        .ok_or_else(|| format!("pulse.{package}.v1.Event is missing"))
}

/// `envelope!` with each domain of the envelope's `Event.domain` (its
/// variant and module), then `domain!` with each domain's events: the oneof
/// variants of its own `Event.kind`. A domain folder that the envelope does
/// not list could never send an event, so it fails the build.
fn event_macros(
    descriptors: &FileDescriptorSet,
    domains: &[String],
) -> Result<String, Box<dyn std::error::Error>> {
    let mut listed = Vec::new();
    for field in &event_message(descriptors, "events")?.field {
        let domain = field
            .type_name()
            .strip_prefix(".pulse.")
            .and_then(|name| name.strip_suffix(".v1.Event"))
            .ok_or_else(|| format!("envelope field {} is not a domain's Event", field.name()))?;
        listed.push((pascal_case(field.name()), domain));
    }
    if let Some(missing) = domains
        .iter()
        .find(|domain| !listed.iter().any(|(_, listed)| listed == domain))
    {
        return Err(format!("pulse.events.v1.Event.domain does not list {missing}").into());
    }
    let variants: Vec<String> = listed
        .iter()
        .map(|(variant, domain)| format!("{variant}({domain})"))
        .collect();
    let mut calls = format!("envelope! {{ {} }}\n", variants.join(", "));
    for (_, domain) in &listed {
        let events: Vec<String> = event_message(descriptors, domain)?
            .field
            .iter()
            .map(|event| pascal_case(event.name()))
            .collect();
        calls.push_str(&format!("domain! {{ {domain}: {} }}\n", events.join(", ")));
    }
    Ok(calls)
}

/// prost's name for a oneof variant: the PascalCase of its field name
/// (`item_added` is `ItemAdded`, `lean_coffee` is `LeanCoffee`).
fn pascal_case(field: &str) -> String {
    field
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}
