#!/usr/bin/env bash
# Compiles and links the CUDA kernels and their tests with the `gpu` configuration, so a CUDA build
# break shows up on machines without a GPU (CI). Usage: cuda_build_check.sh <source dir> <build dir>
set -euo pipefail
src=$1
bin=$2
cmake -S "$src" -B "$bin" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSVGEAR_CUDA=ON -DSVGEAR_GUI=OFF \
  -DSVGEAR_TESTS=ON -DSVGEAR_TORCH_ROOT="${SVGEAR_TORCH_ROOT}" > "$bin.configure.log" 2>&1 ||
  { cat "$bin.configure.log"; exit 1; }
cmake --build "$bin" --target kernels_tests -- -j 1
echo "CUDA build check passed: $(ls "$bin"/kernels/*.a | wc -l) kernel libraries and kernels_tests linked"
