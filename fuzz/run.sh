#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time (or number of runs) on loopback-free, in-process input.
#   fuzz/run.sh http|json SECONDS [more libFuzzer flags, e.g. -runs=10000000]
# Builds the targets first (fuzz/build.sh). The committed seeds (fuzz/corpus/NAME) are read; new
# inputs go to .build-fuzz/corpus/NAME, crashes to .build-fuzz/artifacts/. Exit status is
# libFuzzer's: non-zero on any crash, sanitizer report or failed invariant.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?http or json}; seconds=${2:?seconds}; shift 2
case "$name" in
    http) max_len=2048 ;;
    json) max_len=2048 ;;
    *) echo "unknown target $name" >&2; exit 2 ;;
esac
bin=$(fuzz/build.sh "fuzz-$name")
# Corpus and crashes stay in .build-fuzz whichever build runs (FUZZ_SANITIZE, see build.sh).
mkdir -p ".build-fuzz/corpus/$name" .build-fuzz/artifacts
# Swift's backtracer would swallow the crash before libFuzzer saves the input.
export SWIFT_BACKTRACE=enable=no
# Same hash seed every run, so that a saved input replays the same way (dictionary order).
export SWIFT_DETERMINISTIC_HASHING=1
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
exec "$bin/fuzz-$name" ".build-fuzz/corpus/$name" "fuzz/corpus/$name" \
    -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=".build-fuzz/artifacts/$name-" "$@"
