#!/usr/bin/env bash
# Checks deploy/ offline (tests/deploy/check.py says what): renders the
# kustomize base and validates it against the Kubernetes schemas, validates
# compose.yaml against the Compose Specification, and checks compose.yaml,
# nginx.conf and the Dockerfile against the README. Needs
# kubectl and python3; its Python packages go into tests/deploy/.venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"

if ! command -v kubectl >/dev/null; then
  echo "deploy check: kubectl is needed to render deploy/k8s (kubectl kustomize)" >&2
  exit 1
fi
if [[ ! -x "$venv/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
exec "$venv/bin/python" "$here/check.py"
