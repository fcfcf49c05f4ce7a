#!/usr/bin/env bash
# Evaluate both runs at the same step, export the DLCM, write its reference vectors and model card.
#   bash weights/recipe/finalize.sh [STEP]     (no STEP: the finished runs' checkpoint.pt)
# Environment: NAME (model directory), DENSE_NAME (the dense baseline's directory), SIZE
# (train.py --size), STEPS (the runs' --steps), DTYPE (export dtype), EVAL_WINDOWS.
set -euo pipefail
cd "$(dirname "$0")/../.."
R=weights/recipe
NAME=${NAME:-dlcm-10m-debian}
STEP=${1:-}
at=(); src=$R/runs/dlcm/checkpoint.pt
if [ -n "$STEP" ]; then at=(--at-step "$STEP"); src=$R/runs/dlcm/ckpt_step$STEP.pt; fi
common=(--eval-windows ${EVAL_WINDOWS:-96} --eval-only --seq 256 --batch 32 --steps ${STEPS:-2600} --size ${SIZE:-4m} --warmup 60 --threads 2 --no-compile)
# A run that finished evaluated itself (result.json with "eval", same windows); one compared at an
# earlier step is evaluated from its ckpt_step<N>.pt.
for run in dlcm dense; do
    if [ -z "$STEP" ] && grep -q '"eval"' $R/runs/$run/result.json 2>/dev/null; then continue; fi
    python3 $R/train.py --model $run "${common[@]}" "${at[@]}" --out $R/runs/$run | tail -n 30
done
python3 $R/export.py "$src" weights/$NAME --dtype ${DTYPE:-bfloat16}
dense_src=$R/runs/dense/checkpoint.pt
if [ -n "$STEP" ]; then dense_src=$R/runs/dense/ckpt_step$STEP.pt; fi
python3 $R/export_dense.py "$dense_src" weights/${DENSE_NAME:-dense-baseline} --tokenizer weights/$NAME/tokenizer.json --dtype ${DTYPE:-bfloat16}
python3 $R/make_vectors.py shipped weights/$NAME
python3 $R/model_card.py weights/$NAME --dlcm $R/runs/dlcm --dense $R/runs/dense --master "$src" --note "${NOTE:-}" \
    --dense-name ${DENSE_NAME:-dense-baseline} ${SEED_RUNS:+--seed-runs $SEED_RUNS} > /dev/null
ls -la weights/$NAME
