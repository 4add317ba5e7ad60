#!/usr/bin/env bash
# Regenerates the offline query data (.sqlx/ at the workspace root) that the
# `sqlx::query!` family checks at compile time, when no database is at hand
# (`SQLX_OFFLINE = "true"` in .cargo/config.toml). Run it after changing any
# query, and commit .sqlx/ with the change.
#
# One scratch database holds every service's migrations and the outbox
# tables: the services' tables have distinct names (checked below; a clash
# would need a scratch database per service), so each query is checked against exactly the tables its service
# creates. The database is dropped again on exit.
#
# Needs PostgreSQL on 127.0.0.1:5432 with trust auth (user postgres); installs
# sqlx-cli with tests/tools/install-sqlx-cli.sh if missing.
# Usage: bash tests/tools/sqlx-prepare.sh [--check]
#   --check  compares instead of writing: fails if .sqlx/ is not current
#            (tests/run.sh runs this).
set -euo pipefail
cd "$(dirname "$0")/../.."

server="postgres://postgres@127.0.0.1:5432"
database="pulse_sqlx_prepare_$$"
psql_run() { psql -X -q -o /dev/null -v ON_ERROR_STOP=1 "$@"; }

PATH="$(dirname "$(bash tests/tools/install-sqlx-cli.sh)"):$PATH"

tables=$(grep -ohiE '^CREATE TABLE [a-z_]+' services/*/migrations/*.sql | awk '{print tolower($3)}' | sort)
if clash=$(uniq -d <<<"$tables") && [[ -n "$clash" ]]; then
  echo "services share table names ($clash): give each service its own scratch database" >&2
  exit 1
fi

psql_run "$server/postgres" -c "CREATE DATABASE $database"
trap 'psql_run "$server/postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"' EXIT

for migration in services/*/migrations/*.sql; do
  psql_run --single-transaction "$server/$database" -f "$migration"
done
psql_run --single-transaction "$server/$database" -f libs/pulse-outbox/schema.sql

DATABASE_URL="$server/$database" cargo sqlx prepare --workspace "$@" -- --all-targets --locked
