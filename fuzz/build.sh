#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz-http, fuzz-json) with AddressSanitizer into .build-fuzz,
# optimised (a debug build runs ~10x fewer executions per second); -enable-testing lets fuzz-json
# reach the internal request types with @testable import. Dead-stripping must be off: it drops
# the coverage counters' sections and libFuzzer then fuzzes blind ("no interesting inputs"). The
# sanitizers go in one -sanitize=fuzzer,address: with two flags swiftc keeps only the last, so
# `--sanitize=fuzzer --sanitize=address` builds without coverage (it links libFuzzer, though).
#   fuzz/build.sh [fuzz-http|fuzz-json]   (default: both)
# FUZZ_SANITIZE=fuzzer builds without AddressSanitizer into .build-fuzz-plain (3-4x the
# executions per second; Swift's own bounds and overflow traps stay on), for long runs.
# They exist only when DLCM_FUZZ is set (see the end of Package.swift), so normal builds never
# see them. Prints the path of the binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=${FUZZ_SANITIZE:-fuzzer,address}
scratch=.build-fuzz
[ "$sanitize" = fuzzer,address ] || scratch=.build-fuzz-plain
products=("$@")
[ ${#products[@]} -gt 0 ] || products=(fuzz-http fuzz-json)
for product in "${products[@]}"; do
    DLCM_FUZZ=1 swift build -c release --disable-dead-strip -Xswiftc -enable-testing --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize="$sanitize" --product "$product" >&2
done
DLCM_FUZZ=1 swift build -c release --disable-dead-strip -Xswiftc -enable-testing --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize="$sanitize" --show-bin-path
