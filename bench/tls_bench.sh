#!/usr/bin/env bash
# What TLS costs: `dlcm serve` over plain HTTP and over TLS, side by side in one run, under wrk on
# loopback. Two figures: keep-alive requests/s (record encryption only) and new-connection
# requests/s with `Connection: close` (a full handshake per request: ECDHE P-256 + ECDSA here).
#   bench/tls_bench.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; conns=${2:-32}
dpkg -s wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product dlcm >/dev/null
work=$(mktemp -d)
trap 'kill $plain $tls 2>/dev/null || true; rm -rf "$work"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
.build/release/dlcm serve --port 18183 --threads 1 > "$work/plain.log" 2>&1 & plain=$!
.build/release/dlcm serve --port 18184 --threads 1 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/tls.log" 2>&1 & tls=$!
for i in $(seq 100); do
    curl -sf localhost:18183/health >/dev/null && curl -sf --cacert "$work/cert.pem" https://127.0.0.1:18184/health >/dev/null && break
    sleep 0.2
done

run() { wrk -t1 -c"$conns" -d"${secs}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
close=(-H "Connection: close")
# Alternating rounds, so that load from elsewhere on the machine hits both sides alike.
p1=$(run http://127.0.0.1:18183/health);  t1=$(run https://127.0.0.1:18184/health)
p2=$(run http://127.0.0.1:18183/health);  t2=$(run https://127.0.0.1:18184/health)
pc1=$(run "${close[@]}" http://127.0.0.1:18183/health); tc1=$(run "${close[@]}" https://127.0.0.1:18184/health)
pc2=$(run "${close[@]}" http://127.0.0.1:18183/health); tc2=$(run "${close[@]}" https://127.0.0.1:18184/health)
echo "wrk -t1 -c$conns -d${secs}s /health (two alternating rounds)"
printf "keep-alive  plain: %9.0f %9.0f   tls: %9.0f %9.0f requests/s\n" "$p1" "$p2" "$t1" "$t2"
printf "new conn    plain: %9.0f %9.0f   tls: %9.0f %9.0f requests/s\n" "$pc1" "$pc2" "$tc1" "$tc2"
python3 - "$p1" "$p2" "$t1" "$t2" "$pc1" "$pc2" "$tc1" "$tc2" <<'PY'
import sys
p1, p2, t1, t2, pc1, pc2, tc1, tc2 = map(float, sys.argv[1:])
print(f"ratio tls/plain, keep-alive:     {(t1 + t2) / (p1 + p2):.2f}")
print(f"ratio tls/plain, new connection: {(tc1 + tc2) / (pc1 + pc2):.2f}")
# 1/rate is the wall time per request with the machine saturated; the difference between TLS and
# plain new connections is what a handshake adds, server and wrk's client side together (they
# share the machine's cores), so an upper bound on the server's own share.
print(f"added per new TLS connection: {1e6 * (2 / (tc1 + tc2) - 2 / (pc1 + pc2)):.0f} us (client + server)")
PY
