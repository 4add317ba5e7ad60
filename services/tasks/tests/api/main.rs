//! Integration tests of the task-notification service through its gRPC
//! APIs, against a real PostgreSQL, with events read from a real bus as a
//! gateway would read them.

mod helpers;

mod keys;
mod nul;
mod progress;
mod spend;
mod system;
mod tasks;
