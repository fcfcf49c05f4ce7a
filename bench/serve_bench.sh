#!/usr/bin/env bash
# Streamed tokens/s over HTTP vs in-process generation, and aggregate tokens/s at 1, 4 and 16
# concurrent streams.
#   bench/serve_bench.sh [model dir] [max tokens]     (release build; default model: the test fixture)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-Tests/DLCMServerTests/Resources/tiny-served}
tokens=${2:-128}
threads=${DLCM_THREADS:-$(nproc)}
swift build -c release --product dlcm >/dev/null
bin=.build/release/dlcm

echo "== in-process: dlcm bench decode (greedy, batch 1/4/16, $threads threads)"
$bin bench --model "$model" --threads "$threads" --steps "$tokens" --batch 1 4 16 | grep '^decode' | cut -c1-60

log=$(mktemp)
$bin serve --model "$model" --threads "$threads" --port 0 --max-batch 16 --max-queue 64 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 200); do grep -q "on http://" "$log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
echo "== over HTTP ($url), streamed"
python3 bench/serve_bench.py --url "$url" --max-tokens "$tokens" --concurrency 1 4 16
