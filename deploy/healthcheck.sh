#!/bin/bash
# Container health check without curl: GET /health over bash's /dev/tcp; healthy only on a 200
# status line (/health answers 503 when the engine loop has stalled). Port from DLCM_PORT (the
# image sets 8080); the caller's timeout (HEALTHCHECK --timeout) bounds a server that never answers.
set -eu
port=${DLCM_PORT:-8080}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r status <&3
case "$status" in
    "HTTP/1.1 200 "*) exit 0 ;;
    *) echo "unhealthy: ${status:-no answer}" >&2; exit 1 ;;
esac
