#!/usr/bin/env bash
# Installs sqlx-cli (`cargo sqlx`) at tests/tools/bin/cargo-sqlx, for
# tests/tools/sqlx-prepare.sh. Pinned to the sqlx of Cargo.lock, so the query
# data it writes is what the macros of this build read.
#
# Idempotent: does nothing when bin/cargo-sqlx already reports the pinned
# version (a fresh install compiles for several minutes).
# Usage: bash tests/tools/install-sqlx-cli.sh   (prints the binary's path)
set -euo pipefail

SQLX_VERSION="0.8.6"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="$here/bin/cargo-sqlx"

if [[ -x "$target" ]] && "$target" sqlx --version 2>&1 | grep -q " ${SQLX_VERSION}\$"; then
  echo "$target"
  exit 0
fi

cargo install sqlx-cli --version "=${SQLX_VERSION}" --no-default-features \
  --features postgres,rustls --locked --root "$here" >&2
echo "$target"
