#!/bin/sh
# Encoding speed of the Swift tokenizer beside the `tokenizers` library, same input, one thread each.
# Usage: Tests/TokenizationTests/Scripts/bench.sh [tokenizer.json] [file.jsonl...]
# Defaults: the project tokenizer (Resources/project) on the corpus's validation JSONL files
# (weights/recipe/data, git-ignored); pass other files to measure something else.
set -eu
cd "$(dirname "$0")/../../.."
data=/work/main/weights/recipe/data
tok=${1:-Tests/TokenizationTests/Resources/project/tokenizer.json}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- "$data/val_prose.jsonl" "$data/val_tech.jsonl" "$data/val_code.jsonl"
swift build -c release --product tokenizer-bench >/dev/null
swift_line=$(.build/release/tokenizer-bench "$tok" "$@")
lib_line=$(python3 Tests/TokenizationTests/Scripts/bench_library.py "$tok" "$@")
echo "$swift_line"
echo "$lib_line"
s=$(echo "$swift_line" | head -1 | sed 's/.*swift_mb_per_s=\([0-9.]*\).*/\1/')
l=$(echo "$lib_line" | sed 's/.*library_mb_per_s=\([0-9.]*\).*/\1/')
python3 -c "print(f'swift/library = {$s/$l:.2f}x (same 10k-word cache)')"
