#!/usr/bin/env bash
# /health requests/s under wrk: `dlcm serve` against nginx answering a static 200, side by side on
# loopback in one run. Installs wrk and nginx-light from Debian if missing.
#   bench/http_bench.sh [seconds] [connections] [rounds]
# Prints each round and the median of the per-round ratios (the machines are noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; conns=${2:-32}; rounds=${3:-4}
for pkg in wrk nginx-light; do
    dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$pkg" >/dev/null; }
done
swift build -c release --product dlcm >/dev/null
work=$(mktemp -d)
trap 'kill $server $nginx 2>/dev/null || true; rm -rf "$work"' EXIT

# nginx: one worker (the Swift server runs one event loop), access log off, a fixed body.
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
error_log $work/error.log;
pid $work/nginx.pid;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
    server { listen 127.0.0.1:18181; location /health { return 200 '{"status":"ok"}'; } }
}
CONF
nginx -c "$work/nginx.conf" & nginx=$!
# On its defaults: answered probes are logged at debug, so no request line (nginx: access_log off).
.build/release/dlcm serve --port 18182 --threads 1 > "$work/serve.log" 2>&1 & server=$!
for i in $(seq 50); do curl -sf localhost:18182/health >/dev/null && curl -sf localhost:18181/health >/dev/null && break; sleep 0.2; done

run() { wrk -t1 -c"$conns" -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
echo "wrk -t1 -c$conns -d${secs}s /health, $rounds alternating rounds"
ratios=()
for r in $(seq "$rounds"); do
    s=$(run http://127.0.0.1:18182/health); n=$(run http://127.0.0.1:18181/health)
    ratios+=("$(python3 -c "print($s / $n)")")
    printf "round %d: dlcm serve %8.0f, nginx %8.0f requests/s, ratio %.2f\n" "$r" "$s" "$n" "${ratios[-1]}"
done
python3 -c "import statistics, sys; print(f'median ratio dlcm/nginx: {statistics.median(map(float, sys.argv[1:])):.2f}')" "${ratios[@]}"
