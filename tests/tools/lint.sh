#!/usr/bin/env bash
# The checks every commit passes before the tests: formatting, clippy with
# warnings as errors, and the API docs (broken intra-doc links are errors).
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps
