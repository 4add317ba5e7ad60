//! Integration tests of the shopping-list service through its gRPC API, with
//! events read from the bus as a gateway would read them.

mod helpers;

mod access;
mod collaborators;
mod durability;
mod item_batches;
mod items;
mod lists;
mod nul;
mod outage;
mod presence;
mod presence_scale;
mod validation;
