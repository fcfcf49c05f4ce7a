#!/usr/bin/env bash
# Fetches llama.cpp (the copy vendored in the llama-cpp-python source distribution, by package name
# with pip: no git, no URL) and builds the CPU-only tools the comparisons use: llama-bench,
# llama-batched-bench, llama-simple, llama-tokenize.
#   bench/llamacpp/build.sh [DIR]      (default DIR: ../llamacpp-build next to the repository)
# Prints the directory holding the binaries (last line). Nothing of llama.cpp goes into this
# repository. Run it under `nice` on a shared machine: the build takes minutes.
# Environment: LLAMA_CPP_PYTHON_VERSION (default 0.3.36), JOBS (default 2).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$ROOT/../llamacpp-build}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
JOBS=${JOBS:-2}
PY=${PYTHON:-python3}
mkdir -p "$DIR" && cd "$DIR"
SRC=llama_cpp_python-$VERSION/vendor/llama.cpp
if [ ! -d "$SRC" ]; then
    # pip prepares a source distribution's metadata before saving it. In an isolated build
    # environment with --no-binary :all: that means compiling cmake itself from source; without
    # isolation it only needs the package's build backend (scikit-build-core, a pure-Python wheel),
    # whose metadata step runs no cmake.
    "$PY" -c 'import scikit_build_core' 2>/dev/null || "$PY" -m pip install -q scikit-build-core >&2
    "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
        "llama-cpp-python==$VERSION" -d sdist >&2
    tar xzf "sdist/llama_cpp_python-$VERSION.tar.gz"
fi
command -v cmake >/dev/null || "$PY" -m pip install -q cmake >&2
cmake -S "$SRC" -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_OPENMP=ON \
    -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$JOBS" --target llama-bench llama-batched-bench llama-simple llama-tokenize >&2
echo "$DIR/build/bin"
