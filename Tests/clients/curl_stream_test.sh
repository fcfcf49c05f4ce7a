#!/usr/bin/env bash
# Streaming over curl: SSE events arrive as text/event-stream and end with [DONE].
#   Tests/clients/curl_stream_test.sh [base URL]   (default: starts `dlcm serve` on the fixture)
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${1:-}
if [ -z "$url" ]; then
    log=$(mktemp)
    .build/debug/dlcm serve --model Tests/DLCMServerTests/Resources/tiny-served --port 0 --threads 1 >"$log" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
    for _ in $(seq 100); do grep -q "on http://" "$log" && break; sleep 0.1; done
    url=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
fi
out=$(curl -sS -N --fail-with-body -D - "$url/v1/completions" -H 'Content-Type: application/json' \
    -d '{"prompt":"Hello","max_tokens":8,"seed":1,"stream":true,"ignore_eos":true,"stream_options":{"include_usage":true}}')
echo "$out" | grep -qi '^content-type: text/event-stream' || { echo "curl: not an event stream"; echo "$out"; exit 1; }
[ "$(echo "$out" | grep -c '^data: {')" -ge 3 ] || { echo "curl: too few events"; echo "$out"; exit 1; }
echo "$out" | grep -q '"completion_tokens":8' || { echo "curl: no usage chunk"; echo "$out"; exit 1; }
echo "$out" | tail -n 3 | grep -q '^data: \[DONE\]' || { echo "curl: no [DONE]"; echo "$out"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/completions" -H 'Content-Type: application/json' -d '{"prompt":')
[ "$code" = 400 ] || { echo "curl: invalid JSON gave $code"; exit 1; }
echo "curl stream test: ok"
