#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz-http, fuzz-json) with AddressSanitizer into .build-fuzz,
# optimised (a debug build runs ~10x fewer executions per second); -enable-testing lets fuzz-json
# reach the internal request types with @testable import.
# They exist only when DLCM_FUZZ is set (see the end of Package.swift), so normal builds never
# see them. Prints the path of the binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
for product in fuzz-http fuzz-json; do
    DLCM_FUZZ=1 swift build -c release -Xswiftc -enable-testing --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address --product "$product" >&2
done
DLCM_FUZZ=1 swift build -c release -Xswiftc -enable-testing --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address --show-bin-path
