#!/usr/bin/env bash
# Measures the resident memory of `dlcm serve` at the points that size a container: after the
# model loads, after one completion, with the prefix cache filled to its budget (distinct long
# prompts until it evicts; it stays full for the rest), and with a full batch of concurrent completions that fill
# the context (the KV caches' worst case), then with the queue full too, then with the largest
# answers a request may ask for (n, echo and top logprobs at their limits over a long prompt),
# one and then ten at once, and after them (what the heap gives back).
# Usage: deploy/measure-rss.sh [BINARY] [MODEL_DIR]   (env THREADS, MAX_BATCH, MAX_QUEUE)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/dlcm}
MODEL=${2:-weights/dlcm-10m-debian}
THREADS=${THREADS:-2}
MAX_BATCH=${MAX_BATCH:-16}
MAX_QUEUE=${MAX_QUEUE:-64}
CONTEXT=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['max_seq_len'])" "$MODEL/config.json")

log=$(mktemp)
"$BIN" serve --model "$MODEL" --port 0 --threads "$THREADS" --max-batch "$MAX_BATCH" --max-queue "$MAX_QUEUE" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
start=$(date +%s.%N)
for _ in $(seq 1 600); do
    grep -q 'on http://' "$log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.1
done
port=$(sed -n 's|.*on http://[^:]*:\([0-9]*\).*|\1|p' "$log")
ready=$(date +%s.%N)
url="http://127.0.0.1:$port"

mem() {  # label: VmRSS and VmHWM (peak) in MiB
    awk -v label="$1" '/^VmRSS/ {rss=$2} /^VmHWM/ {hwm=$2} END {printf "%-50s VmRSS %6.1f MiB   VmHWM %6.1f MiB\n", label, rss/1024, hwm/1024}' "/proc/$pid/status"
}
complete() {  # max_tokens
    curl -sf "$url/v1/completions" -H 'Content-Type: application/json' \
        -d "{\"prompt\":\"The package manager\",\"max_tokens\":$1,\"ignore_eos\":true,\"temperature\":0.8}" >/dev/null
}

printf 'startup (exec to listening): %.2f s\n' "$(echo "$ready - $start" | bc)"
mem "after model load (idle)"
complete 16; mem "after 1 completion of 16 tokens"
# Leave room for the prompt (a few tokens) and BOS under the context.
full=$((CONTEXT - 16))
complete "$full"; mem "after 1 completion filling the context ($full)"
# Distinct 900-token prompts (their first tokens differ) until the prefix cache evicts: full.
filled=0
until [ "$(curl -sf "$url/metrics" | sed -n 's/^dlcm_prefix_cache_evictions_total //p')" != "0" ] || [ $filled -ge 2000 ]; do
    python3 -c "import json,sys; k=int(sys.argv[1]); print(json.dumps({'prompt': [(k * 131 + i * 7919) % 8000 + 100 for i in range(900)], 'max_tokens': 1}))" "$filled" \
        | curl -sf "$url/v1/completions" -H 'Content-Type: application/json' -d @- >/dev/null
    filled=$((filled + 1))
done
mem "after filling the prefix cache ($filled prompts)"
curl -sf "$url/metrics" | grep -E "^dlcm_prefix_cache_(bytes|entries) "
pids=()
for _ in $(seq 1 "$MAX_BATCH"); do complete "$full" & pids+=($!); done
sleep 2; mem "during $MAX_BATCH concurrent (full batch)"
curl -sf "$url/metrics" | grep -E "^dlcm_(kv_cache_bytes|running_sequences|queue_length) "
wait "${pids[@]}"; mem "after $MAX_BATCH concurrent of $full tokens"
pids=()
for _ in $(seq 1 $((MAX_BATCH + MAX_QUEUE))); do complete 256 & pids+=($!); done
sleep 1; mem "during $((MAX_BATCH + MAX_QUEUE)) concurrent (batch + queue)"
wait "${pids[@]}" || true; mem "after batch + queue"

# The largest answers: n 8, echo, 20 top logprobs per token, a prompt of 900 token ids and 50
# generated tokens (about 2.7 MB of JSON each for the shipped model).
body=$(mktemp)
python3 -c "import json; print(json.dumps({'prompt': [(i * 7919) % 8000 + 100 for i in range(900)], 'n': 8, 'echo': True, 'logprobs': 20, 'max_tokens': 50, 'ignore_eos': True}))" >"$body"
heavy() { curl -sf "$url/v1/completions" -H 'Content-Type: application/json' -d @"$body" -o /dev/null -w '%{size_download}\n'; }
echo "largest answer: $(heavy) bytes"; mem "after 1 largest answer"
pids=()
for _ in $(seq 1 10); do heavy >/dev/null & pids+=($!); done
wait "${pids[@]}"; mem "after 10 concurrent largest answers"
sleep 3; mem "3 s later (idle)"
rm -f "$body"
