//! `pulse`: one binary for the whole suite; the services it runs are listed
//! once, in `services.rs`.
//!
//! `pulse suite` runs the shopping-list, Lean Coffee, coaching and
//! task-notification services and the gateway in one process (each on its
//! own port), which is how development, the conformance tests and small
//! deployments run it; `pulse lists`, `pulse lean-coffee`, `pulse coaching`,
//! `pulse tasks` and `pulse gateway` run one part each for larger
//! deployments; `pulse mint-token` prints a JWT.

mod args;
mod cli;
mod domain;
mod readme;
mod registry;
mod run;
mod services;
mod shared;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    run::run(cli.command).await
}
