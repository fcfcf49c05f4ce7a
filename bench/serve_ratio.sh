#!/usr/bin/env bash
# HTTP against in-process tokens/s at one concurrency level, over many short alternating rounds:
# the median and quartiles of the per-round ratios. On a shared VM whose speed drifts by tens of
# percent within seconds, a ratio taken from two runs back to back and repeated 30-50 times is
# the figure that holds still (serve_bench.sh's few long rounds swing by +-5% from run to run).
#   bench/serve_ratio.sh [streams] [rounds] [requests per round] [model dir]    (release build)
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-16}
rounds=${2:-40}
requests=${3:-$(( streams >= 16 ? streams * 8 : streams * 16 ))}
model=${4:-weights/dlcm-10m-debian}
threads=${DLCM_THREADS:-$(nproc)}
source bench/serve_common.sh   # $bin, $client, a server at $url
echo "$streams streams, $rounds rounds of $requests requests of 128 tokens each side, $threads threads${client:+, client: ${client[*]}}"
for _ in $(seq "$rounds"); do
    a=$($bin bench --model "$model" --threads "$threads" --engine-streams "$streams" --steps 128 --requests "$requests" | grep -o '[0-9.]* tok/s' | cut -d' ' -f1)
    b=$("${client[@]}" $bin load --url "$url" --max-tokens 128 --requests "$requests" --streams "$streams" | grep -o '[0-9.]* tok/s' | cut -d' ' -f1)
    echo "$a $b" >>"$out"
done
python3 - "$out" <<'PY'
import sys, statistics
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
r = sorted(b / a for a, b in rows)
q = statistics.quantiles(r, n=4)
print(f"HTTP / in-process: median {statistics.median(r):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f}) over {len(r)} rounds; "
      f"median tok/s in-process {statistics.median(a for a, _ in rows):.0f}, HTTP {statistics.median(b for _, b in rows):.0f}")
PY
