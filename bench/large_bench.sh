#!/usr/bin/env bash
# The Swift DLCM runtime against llama.cpp at the sizes people serve: a random-weight DLCM and the
# dense LLaMA of the same inference FLOPs per token (weights/recipe/make_bench_models.py), in the
# same weight formats, on the same CPU and thread counts. Per round, both tools back to back:
#   prefill           llama-bench -p DEPTH -n 0 -r 3          dlcm bench --prompt-tokens DEPTH (best of 3)
#   decode, batch 1   llama-bench -d DEPTH -p 0 -n STEPS      dlcm bench --depth DEPTH --batch 1
#   decode, batch 16  llama-batched-bench -npp DEPTH -ntg STEPS -npl 16    dlcm bench --batch 16
# (decode at equal context depth: every sequence first reads DEPTH tokens, untimed). The DLCM
# decodes the bench text (--decode-input text), so its router closes concepts at the rate it
# was calibrated to; llama.cpp feeds random tokens, which costs a dense model the same.
#
#   SIZE=160m bench/large_bench.sh            # SIZE=1b for the larger pair; TINY=1: pipeline check
#
# Environment (all optional):
#   SIZE=160m          160m or 1b (make_bench_models.py presets)
#   FORMATS="bf16 q8 q4"  weight formats; q8 / q4 rows need `dlcm quantize` (skipped without it)
#   THREADS="1 2"      thread counts           ROUNDS=3       alternating rounds
#   DEPTH=512          context at decode, and the prefill length
#   STEPS=128          decode steps timed      STREAMS=16     sequences of the batched decode
#   TINY=1             the --tiny-check models (a few MB), 1 round, DEPTH 64, STEPS 16
#   MODELS_DIR         default weights/bench-models/$SIZE (git-ignored); made when missing
#   LLAMA_DIR          where llama.cpp is fetched and built (default ../llamacpp-build)
#   RAW_DIR            raw outputs (default: a new temporary directory, kept; its path is printed)
#   PEAK_GFLOPS=118    f32 GFLOP/s of one thread, passed to dlcm bench (skips its measurement)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SIZE=${SIZE:-160m}
FORMATS=${FORMATS:-"bf16 q8 q4"}
THREADS=${THREADS:-"1 2"}
STREAMS=${STREAMS:-16}
PEAK_GFLOPS=${PEAK_GFLOPS:-118}
LLAMA_DIR=${LLAMA_DIR:-$ROOT/../llamacpp-build}
if [ -n "${TINY:-}" ]; then
    ROUNDS=${ROUNDS:-1} DEPTH=${DEPTH:-64} STEPS=${STEPS:-16}
    MODELS_DIR=${MODELS_DIR:-weights/bench-models/tiny}
else
    ROUNDS=${ROUNDS:-3} DEPTH=${DEPTH:-512} STEPS=${STEPS:-128}
    MODELS_DIR=${MODELS_DIR:-weights/bench-models/$SIZE}
fi

if [ ! -f "$MODELS_DIR/models.json" ]; then
    echo "== making the $SIZE${TINY:+ (tiny check)} models in $MODELS_DIR" >&2
    python3 weights/recipe/make_bench_models.py --size "$SIZE" ${TINY:+--tiny-check} --out "$MODELS_DIR" >&2
fi
echo "== building dlcm (release) and llama.cpp" >&2
swift build -c release --product dlcm >&2
DLCM=.build/release/dlcm
BIN=$(bench/llamacpp/build.sh "$LLAMA_DIR" | tail -1)

# The DLCM side of each format: the bf16 checkpoint, or its `dlcm quantize` copy.
RUN_FORMATS=""
for f in $FORMATS; do
    case $f in
        bf16) RUN_FORMATS="$RUN_FORMATS $f" ;;
        q8|q4)
            if ! "$DLCM" quantize --help >/dev/null 2>&1; then
                echo "== skipping the $f rows: this dlcm has no 'quantize' command (no quantized DLCM to compare)" >&2
                continue
            fi
            if [ ! -f "$MODELS_DIR/dlcm-$f/config.json" ] || [ "$MODELS_DIR/dlcm/model.safetensors" -nt "$MODELS_DIR/dlcm-$f/config.json" ]; then
                "$DLCM" quantize "$MODELS_DIR/dlcm" "$MODELS_DIR/dlcm-$f" --type "$f" >&2
            fi
            RUN_FORMATS="$RUN_FORMATS $f" ;;
        *) echo "unknown format '$f' (bf16, q8, q4)" >&2; exit 2 ;;
    esac
done
[ -n "$RUN_FORMATS" ] || { echo "no format to run" >&2; exit 1; }
gguf_of() { case $1 in bf16) echo dense-bf16.gguf ;; q8) echo dense-q8_0.gguf ;; q4) echo dense-q4_0.gguf ;; esac; }
dlcm_of() { [ "$1" = bf16 ] && echo "$MODELS_DIR/dlcm" || echo "$MODELS_DIR/dlcm-$1"; }

if [ -n "${RAW_DIR:-}" ]; then
    RAW=$RAW_DIR && mkdir -p "$RAW" && rm -f "$RAW"/llama-* "$RAW"/dlcm-*
else
    RAW=$(mktemp -d "${TMPDIR:-/tmp}/large-bench.XXXXXX")
fi
echo "== raw outputs in $RAW" >&2
# KV cells for the batched run: every stream's depth + steps.
CTX=$(( (STREAMS * (DEPTH + STEPS) + 255) / 256 * 256 ))

logged() {         # log-file command...: stdout to the file, stderr beside it; say where on failure
    local log=$1; shift
    "$@" > "$log" 2> "$log.err" || { echo "failed: $* (see $log, $log.err)" >&2; exit 1; }
}
llama_round() {    # format threads round
    local g=$MODELS_DIR/$(gguf_of "$1") out=$RAW/llama-$1-t$2-r$3
    logged "$out-prefill.json" "$BIN/llama-bench" -m "$g" -t "$2" -p "$DEPTH" -n 0 -r 3 -o json
    logged "$out-decode.json" "$BIN/llama-bench" -m "$g" -t "$2" -p 0 -n "$STEPS" -d "$DEPTH" -r 1 -o json
    logged "$out-batched.txt" "$BIN/llama-batched-bench" -m "$g" -t "$2" -tb "$2" -c "$CTX" -b 2048 -ub 512 \
        -npp "$DEPTH" -ntg "$STEPS" -npl "$STREAMS" --output-format jsonl
}
dlcm_round() {     # format threads round
    logged "$RAW/dlcm-$1-t$2-r$3.txt" "$DLCM" bench --model "$(dlcm_of "$1")" --threads "$2" --prompt-tokens "$DEPTH" --steps "$STEPS" \
        --depth "$DEPTH" --decode-input text --batch 1 "$STREAMS" --peak-gflops-per-thread "$PEAK_GFLOPS"
}
for r in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        for f in $RUN_FORMATS; do
            echo "== round $r, $t thread(s), $f" >&2
            # Which tool goes first alternates by round, so a drifting machine favours neither.
            if [ $((r % 2)) = 1 ]; then llama_round "$f" "$t" "$r"; dlcm_round "$f" "$t" "$r"
            else dlcm_round "$f" "$t" "$r"; llama_round "$f" "$t" "$r"; fi
        done
    done
done
python3 bench/llamacpp/large_summarize.py "$RAW" --models "$MODELS_DIR" --depth "$DEPTH" --streams "$STREAMS"
echo "raw outputs: $RAW"
