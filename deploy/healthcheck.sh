#!/bin/sh
# Container health check of the pulse image, for Docker and compose
# (Kubernetes probes gRPC and HTTP itself and does not use it).
#   pulse-healthcheck grpc PORT        grpc.health.v1.Health/Check answers SERVING
#   pulse-healthcheck http PORT PATH   GET http://127.0.0.1:PORT PATH answers 2xx
set -eu

case "${1:-}" in
grpc)
  # The request is one gRPC frame holding an empty HealthCheckRequest (the
  # server as a whole): flag 0, length 0. SERVING comes back as the frame
  # 00 00000002 08 01 (field 1 = 1). curl speaks cleartext HTTP/2 by prior
  # knowledge, so the image needs no grpc_health_probe binary.
  reply=$(printf '\000\000\000\000\000' \
    | curl -sS --max-time 3 --http2-prior-knowledge \
        -H 'content-type: application/grpc' -H 'te: trailers' \
        --data-binary @- "http://127.0.0.1:$2/grpc.health.v1.Health/Check" \
    | od -An -tx1 | tr -d ' \n')
  [ "$reply" = "00000000020801" ]
  ;;
http)
  curl -fsS --max-time 3 -o /dev/null "http://127.0.0.1:$2$3"
  ;;
*)
  echo "usage: pulse-healthcheck grpc PORT | http PORT PATH" >&2
  exit 2
  ;;
esac
