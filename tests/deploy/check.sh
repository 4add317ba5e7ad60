#!/usr/bin/env bash
# Checks deploy/ offline (tests/deploy/check.py says what): compose.yaml,
# nginx.conf and the Dockerfile against the README. Needs python3; its Python
# packages go into tests/deploy/.venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"

if [[ ! -x "$venv/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
exec "$venv/bin/python" "$here/check.py"
