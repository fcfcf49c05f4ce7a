#!/usr/bin/env bash
# The Swift DLCM runtime against llama.cpp running the dense LLaMA baseline of about the same
# inference FLOPs per token (weights/recipe DenseLM), on the same CPU and thread counts:
# prefill (256 prompt tokens) and batch-1 decode (128 tokens) throughput, FLOPs per token of each
# model, GFLOP/s reached and the fraction of peak.
#
#   bench/llamacpp_bench.sh
#
# Environment (all optional):
#   THREADS="1 2"     thread counts          ROUNDS=4     alternating rounds (best of each is kept)
#   DTYPES="f32 f16 bf16"  GGUF weight types for llama.cpp (f32 is the like-for-like comparison:
#                          the DLCM weights are f32)
#   DENSE_CKPT        the dense baseline: the shipped weights/dense-5m-debian (default), or a
#                     training checkpoint.pt
#   MODEL             DLCM model directory (default weights/dlcm-10m-debian)
#   LLAMA_DIR         where llama.cpp is fetched and built (default ../llamacpp-build)
#   PEAK_GFLOPS       f32 GFLOP/s of one thread (default 118: one 512-bit FMA per cycle, measured)
#   PEAK_GBS          DRAM bandwidth GB/s (default 40)
#   RAW_DIR           keep every run's raw output there (default: a temporary directory)
# The machine may be shared: the two tools run alternately, round after round, and the best
# figure of each is reported, so both see the same conditions; read the ratios.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
THREADS=${THREADS:-"1 2"}
ROUNDS=${ROUNDS:-4}
DTYPES=${DTYPES:-"f32 f16 bf16"}
MODEL=${MODEL:-weights/dlcm-10m-debian}
LLAMA_DIR=${LLAMA_DIR:-$ROOT/../llamacpp-build}
PEAK_GFLOPS=${PEAK_GFLOPS:-118}
PEAK_GBS=${PEAK_GBS:-40}
if [ -z "${DENSE_CKPT:-}" ]; then
    for c in weights/dense-5m-debian weights/recipe/runs/dense/checkpoint.pt; do
        [ -e "$c" ] && DENSE_CKPT=$c && break
    done
fi
[ -e "${DENSE_CKPT:-}" ] || { echo "no dense baseline: set DENSE_CKPT (a directory from export_dense.py, or train.py --model dense's checkpoint.pt)" >&2; exit 1; }

echo "== building dlcm (release) and llama.cpp" >&2
swift build -c release --product dlcm >&2
BIN=$(bench/llamacpp/build.sh "$LLAMA_DIR" | tail -1)

GGUF_DIR=$LLAMA_DIR/models
mkdir -p "$GGUF_DIR"
for d in $(echo f32 $DTYPES | tr ' ' '\n' | sort -u); do
    g=$GGUF_DIR/dense-$d.gguf
    if [ ! -f "$g" ] || [ "$DENSE_CKPT" -nt "$g" ] || [ weights/recipe/export_gguf.py -nt "$g" ]; then
        python3 weights/recipe/export_gguf.py "$DENSE_CKPT" "$MODEL/tokenizer.json" "$g" --dtype "$d" >&2
    fi
done

# What is timed must compute the same thing: llama.cpp's greedy continuations equal PyTorch's.
echo "== parity of the f32 GGUF with PyTorch DenseLM" >&2
python3 bench/llamacpp/parity.py "$DENSE_CKPT" "$MODEL/tokenizer.json" "$GGUF_DIR/dense-f32.gguf" "$BIN" >&2

if [ -n "${RAW_DIR:-}" ]; then
    RAW=$RAW_DIR && mkdir -p "$RAW" && rm -f "$RAW"/llama-*.json "$RAW"/dlcm-*.txt
else
    RAW=$(mktemp -d) && trap 'rm -rf "$RAW"' EXIT
fi
for r in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        echo "== round $r, $t thread(s)" >&2
        # Sampled as dlcm bench samples: prefill best of 3, one decode of 128 tokens per round,
        # after the same 256-token context on both sides (llama-bench -d).
        for d in $DTYPES; do
            "$BIN/llama-bench" -m "$GGUF_DIR/dense-$d.gguf" -t "$t" -p 256 -n 0 -r 3 -o json \
                > "$RAW/llama-$d-t$t-r$r-prefill.json" 2>/dev/null
            "$BIN/llama-bench" -m "$GGUF_DIR/dense-$d.gguf" -t "$t" -p 0 -n 128 -d 256 -r 1 -o json \
                > "$RAW/llama-$d-t$t-r$r-decode.json" 2>/dev/null
        done
        .build/release/dlcm bench --model "$MODEL" --threads "$t" --prompt-tokens 256 --steps 128 --batch 1 > "$RAW/dlcm-t$t-r$r.txt"
    done
done
python3 bench/llamacpp/summarize.py "$RAW" --model "$MODEL" --dense-checkpoint "$DENSE_CKPT" \
    --peak-gflops "$PEAK_GFLOPS" --peak-gbs "$PEAK_GBS"
