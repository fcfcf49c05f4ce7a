# Sourced by serve_bench.sh and serve_ratio.sh: builds dlcm, places the load client, starts
# `dlcm serve` on a free port. Expects $model and $threads; sets $bin, $client, $log, $out, $pid,
# $url (the server and the temporary files go when the script exits).
swift build -c release --product dlcm >/dev/null
bin=.build/release/dlcm

# With fewer threads than CPUs the server keeps its compute threads on the first ones and its
# event loop on the rest (--pin-threads); the client goes there too, as if it ran elsewhere.
# With as many, each compute thread gets a CPU and the loop shares the last one; the client goes
# there too, which measured best on 2-vCPU AMD EPYCs with 2 threads: +6% median at 1 stream on a
# Zen 4, and at 16 streams on a Zen 5 an HTTP/in-process median ratio of 0.93 with the client
# beside the loop, against 0.91 with it on the engine's CPU and 0.84 unpinned.
client=()
if command -v taskset >/dev/null && [ "$threads" -le "$(nproc)" ] && [ "$(nproc)" -ge 2 ]; then
    if [ "$threads" -lt "$(nproc)" ]; then client=(taskset -c "$threads-$(($(nproc) - 1))"); else client=(taskset -c "$(($(nproc) - 1))"); fi
fi
log=$(mktemp); out=$(mktemp)
$bin serve --model "$model" --threads "$threads" --port 0 --max-batch 16 --max-queue 64 ${STREAM_INTERVAL_MS:+--stream-interval-ms "$STREAM_INTERVAL_MS"} >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log" "$out"' EXIT
for _ in $(seq 200); do grep -q "on http://" "$log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
