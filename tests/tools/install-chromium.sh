#!/usr/bin/env bash
# Installs Debian's chromium (the browser the browser tests drive through
# playwright-core) with apt-get when /usr/bin/chromium is missing.
#
# Idempotent: does nothing when the browser is already there.
# Usage: bash tests/tools/install-chromium.sh   (prints the binary's path)
set -euo pipefail

target=/usr/bin/chromium

if [[ -x "$target" ]]; then
  echo "$target"
  exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2

if [[ ! -x "$target" ]]; then
  echo "install-chromium: apt-get installed no $target" >&2
  exit 1
fi
echo "$target"
