#!/usr/bin/env bash
# Creates tests/python/.venv and installs the pinned Python SignalR clients and
# pytest into it (again only when requirements.txt changed).
set -euo pipefail
cd "$(dirname "$0")"

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --requirement requirements.txt
  echo "$wanted" > "$stamp"
fi
