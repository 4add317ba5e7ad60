#!/usr/bin/env bash
# Runs the Python client tests (pysignalr, signalrcore) against a `pulse suite`
# that conftest.py starts from target/debug/pulse (or $PULSE_BIN).
set -euo pipefail
cd "$(dirname "$0")"

./setup.sh
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
  # pytest's "no tests collected": never a pass.
  echo "tests/python: pytest collected no tests" >&2
  exit 1
fi
exit $status
