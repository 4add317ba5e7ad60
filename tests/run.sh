#!/usr/bin/env bash
# Runs every test of the suite: Rust unit and integration tests (against real
# PostgreSQL and NATS), then the conformance tests that drive the gateway with
# the official @microsoft/signalr client and the real grpcurl binary, then the web
# app in a real Chromium (tests/browser), then the
# Python SignalR clients (pysignalr, signalrcore). Before the Python clients it
# checks deploy/ (Kubernetes base, compose, nginx, Dockerfile) against the README.
set -euo pipefail
cd "$(dirname "$0")/.."

tests/tools/ensure-services.sh
tests/tools/install-grpcurl.sh

cargo build --locked --workspace --all-targets
cargo test --locked --workspace
# The build above read the committed query data (.sqlx/, SQLX_OFFLINE in
# .cargo/config.toml), so a new or changed query without data already failed
# it; this also catches data gone stale under an unchanged query (a
# migration that changed a column's type or nullability).
bash tests/tools/sqlx-prepare.sh --check

(
  cd tests/conformance
  npm ci --no-audit --no-fund
  PULSE_BIN="$PWD/../../target/debug/pulse" GRPCURL="$PWD/../tools/bin/grpcurl" npm test
)

# The web app in Debian's Chromium (installed with apt-get if missing), two windows per
# scenario, and the vendored SignalR browser builds against their pinned npm version.
(
  cd tests/browser
  npm ci --no-audit --no-fund
  PULSE_BIN="$PWD/../../target/debug/pulse" npm test
)

# deploy/ against the README, offline (no Docker daemon needed).
tests/deploy/check.sh

PULSE_BIN="$PWD/target/debug/pulse" tests/python/run.sh
