#!/usr/bin/env bash
# What TLS costs: `dlcm serve` over plain HTTP and over TLS, side by side in one run, under wrk on
# loopback. Keep-alive requests/s (record encryption only), new-connection requests/s with
# `Connection: close` (a full handshake per request: TLS 1.3, ECDHE + ECDSA P-256), and the
# server's own CPU time per request (from /proc, so wrk's half of each handshake is not counted).
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

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
# One wrk run against server pid $1: prints "requests/s server-CPU-us-per-request".
run() {
    local pid=$1; shift
    local before out after
    before=$(ticks "$pid")
    out=$(wrk -t1 -c"$conns" -d"${secs}s" "$@")
    after=$(ticks "$pid")
    local rps total
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    python3 -c "print(f'{$rps:.0f} {1e6 * ($after - $before) / $hz / max($total, 1):.1f}')"
}
close=(-H "Connection: close")
# Alternating rounds, so that load from elsewhere on the machine hits both sides alike.
for round in 1 2; do
    echo "keep-alive plain $(run $plain http://127.0.0.1:18183/health)"
    echo "keep-alive tls   $(run $tls https://127.0.0.1:18184/health)"
    echo "new-conn   plain $(run $plain "${close[@]}" http://127.0.0.1:18183/health)"
    echo "new-conn   tls   $(run $tls "${close[@]}" https://127.0.0.1:18184/health)"
done > "$work/results"
echo "wrk -t1 -c$conns -d${secs}s /health, two alternating rounds: requests/s, server CPU us/request"
cat "$work/results"
python3 - "$work/results" <<'PY'
import sys
from collections import defaultdict
rates, cpu = defaultdict(list), defaultdict(list)
for line in open(sys.argv[1]):
    mode, kind, rps, us = line.split()
    rates[mode, kind].append(float(rps)); cpu[mode, kind].append(float(us))
mean = lambda xs: sum(xs) / len(xs)
for mode in ("keep-alive", "new-conn"):
    print(f"{mode:10s} tls/plain requests/s {mean(rates[mode, 'tls']) / mean(rates[mode, 'plain']):.2f}, "
          f"server CPU per request {mean(cpu[mode, 'tls']):.1f} us vs {mean(cpu[mode, 'plain']):.1f} us")
print(f"handshake: about {mean(cpu['new-conn', 'tls']) - mean(cpu['new-conn', 'plain']):.0f} us of server CPU per new connection")
PY
