#!/usr/bin/env bash
# Refreshes the web app's vendored SignalR browser builds (gateway/web/vendor/)
# from the pinned npm version, as ASP.NET Core templates vendor them: the
# gateway embeds these files, so `pulse suite` serves the app with no npm step.
# The browser tests check the committed files against the same version.
#
# Usage: bash tests/tools/vendor-web.sh
set -euo pipefail

SIGNALR_VERSION="10.0.11"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vendor="$here/../../gateway/web/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(
  cd "$work"
  npm pack --silent "@microsoft/signalr@${SIGNALR_VERSION}" \
    "@microsoft/signalr-protocol-msgpack@${SIGNALR_VERSION}" >/dev/null
  mkdir signalr msgpack
  tar -xzf "microsoft-signalr-${SIGNALR_VERSION}.tgz" -C signalr
  tar -xzf "microsoft-signalr-protocol-msgpack-${SIGNALR_VERSION}.tgz" -C msgpack
)
mkdir -p "$vendor"
# The MessagePack build bundles @msgpack/msgpack and reads `signalR` from the page.
install -m 0644 "$work/signalr/package/dist/browser/signalr.min.js" "$vendor/signalr.min.js"
install -m 0644 "$work/msgpack/package/dist/browser/signalr-protocol-msgpack.min.js" \
  "$vendor/signalr-protocol-msgpack.min.js"
echo "vendored @microsoft/signalr ${SIGNALR_VERSION} into $vendor"
