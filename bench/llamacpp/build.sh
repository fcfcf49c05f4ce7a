#!/usr/bin/env bash
# Fetches llama.cpp (the copy vendored in the llama-cpp-python sdist on PyPI: no GitHub needed) and
# builds the CPU-only tools the comparison uses: llama-bench, llama-simple, llama-tokenize.
#   bench/llamacpp/build.sh [DIR]      (default DIR: ../llamacpp-build next to the repository)
# Prints the directory holding the binaries. Nothing of llama.cpp goes into this repository.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$ROOT/../llamacpp-build}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
JOBS=${JOBS:-2}
mkdir -p "$DIR" && cd "$DIR"
SRC=llama_cpp_python-$VERSION/vendor/llama.cpp
if [ ! -d "$SRC" ]; then
    # pip download --no-binary would try to build the package's metadata (a full cmake build);
    # the sdist itself is all that is needed, so its URL is read from PyPI's JSON API.
    URL=$(curl -sSf "https://pypi.org/pypi/llama-cpp-python/json" | VERSION=$VERSION python3 -c '
import json, os, sys, urllib.parse
d = json.load(sys.stdin)
files = d.get("releases", {}).get(os.environ["VERSION"]) or d["urls"]
u = [x["url"] for x in files if x["packagetype"] == "sdist" and os.environ["VERSION"] in x["url"]][0]
print(urllib.parse.urljoin("https://pypi.org/pypi/llama-cpp-python/json", u))')
    curl -sSfLo "llama_cpp_python-$VERSION.tar.gz" "$URL"
    tar xzf "llama_cpp_python-$VERSION.tar.gz"
fi
command -v cmake >/dev/null || pip install cmake
cmake -S "$SRC" -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_OPENMP=ON \
    -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$JOBS" --target llama-bench llama-simple llama-tokenize >&2
echo "$DIR/build/bin"
