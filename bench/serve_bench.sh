#!/usr/bin/env bash
# Streamed tokens/s over HTTP against the same engine in-process, and aggregate tokens/s at 1, 4
# and 16 concurrent streams. At each level both sides do the same work: REQUESTS requests (256)
# of [max tokens] each, shared among the streams, each stream sending its share one after the
# other (over HTTP on one keep-alive connection, with `dlcm load`). Rounds alternate in-process
# and HTTP at each level so both see the same (noisy, shared) machine; the summary prints the
# best round of each and the median of the ratios taken within each round. The server runs
# with its defaults (a stream's tokens leave together at most every 5 ms); STREAM_INTERVAL_MS=0
# writes every token.
#   bench/serve_bench.sh [model dir] [max tokens] [rounds]    (release build)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-weights/dlcm-10m-debian}
tokens=${2:-128}
rounds=${3:-5}
requests=${REQUESTS:-256}
levels=(1 4 16)
threads=${DLCM_THREADS:-$(nproc)}
source bench/serve_common.sh
echo "model $model, $requests requests of $tokens tokens per level, $threads threads, server $url (stream interval ${STREAM_INTERVAL_MS:-5} ms), $rounds rounds${client:+, client: ${client[*]}}"
for r in $(seq "$rounds"); do
    for n in "${levels[@]}"; do
        $bin bench --model "$model" --threads "$threads" --steps "$tokens" --requests "$requests" --engine-streams "$n" | tee -a "$out"
        "${client[@]}" $bin load --url "$url" --max-tokens "$tokens" --requests "$requests" --streams "$n" | tee -a "$out"
    done
done
python3 - "$out" "${levels[@]}" <<'PY'
import re, sys, statistics
# Rounds in order: per round and level, one in-process line then one HTTP line.
rounds, current = [], {}
for l in open(sys.argv[1]).read().splitlines():
    m = re.match(r"(engine|http) streams\s+(\d+):\s+([\d.]+) tok/s", l)
    if not m:
        continue
    key = (m.group(1), int(m.group(2)))
    if key in current:
        rounds.append(current)
        current = {}
    current[key] = float(m.group(3))
rounds.append(current)
levels = [int(x) for x in sys.argv[2:]]
best = lambda k: max(r[k] for r in rounds)
med = statistics.median
# The machine's speed drifts between rounds (a shared VM): ratios are also taken within a round
# (in-process and HTTP back to back), and the median of those printed beside the best rounds'.
print(f"\n{len(rounds)} rounds      best: in-process      HTTP   ratio | median of the rounds' ratios")
for n in levels:
    e, h = best(("engine", n)), best(("http", n))
    print(f"{n:3d} streams   {e:16.1f} {h:9.1f}  {h / e:5.2f}x | {med(r[('http', n)] / r[('engine', n)] for r in rounds):5.2f}x")
for side, name in (("engine", "in-process"), ("http", "HTTP")):
    print(f"16 streams / 1 stream, {name:10s}: best {best((side, 16)) / best((side, 1)):.2f}x, "
          f"median of the rounds' {med(r[(side, 16)] / r[(side, 1)] for r in rounds):.2f}x")
PY
