#!/usr/bin/env bash
# Makes sure the shared PostgreSQL (127.0.0.1:5432) and NATS with JetStream
# (127.0.0.1:4222) the tests use are running, starting them the way this
# machine kind installs them if they are not. Idempotent.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  for _ in $(seq 1 60); do
    port_open "$1" && return 0
    sleep 0.5
  done
  echo "port $1 did not open" >&2
  return 1
}

if ! port_open 5432; then
  echo "starting PostgreSQL" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  else
    echo "PostgreSQL is not running and pg_ctlcluster is not available" >&2
    exit 1
  fi
  wait_for_port 5432
fi

if ! port_open 4222; then
  echo "starting nats-server with JetStream" >&2
  store="${PULSE_NATS_STORE:-/var/lib/nats-server}"
  mkdir -p "$store"
  nohup nats-server -a 127.0.0.1 -p 4222 -js -sd "$store" >/tmp/pulse-nats-server.log 2>&1 &
  wait_for_port 4222
fi
