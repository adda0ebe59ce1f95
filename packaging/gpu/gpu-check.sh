#!/usr/bin/env bash
# Runs ON THE GPU MACHINE in one call: build the `gpu` preset, run every test, run the benchmarks,
# print a short table last. Prepare first, here: packaging/gpu/fetch-debs.sh. Then the device run:
#   bash packaging/gpu/gpu-check.sh        (carry .gpu-debs and shared)
# Logs and JSON go to $OUT (the device tool's output folder) or ./gpu-out.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
nvcc --version | tail -2

# Without these two the configure below fails on a missing ZLIB folder, which names neither.
if ! compgen -G '.gpu-debs/*.deb' > /dev/null || [ ! -d shared/testvectors ]; then
  echo "gpu-check.sh: .gpu-debs/*.deb or shared/testvectors is missing from this copy: run" \
       "packaging/gpu/fetch-debs.sh on the build machine, then pass carry: [\".gpu-debs\", \"shared\"]"
  exit 1
fi
deps=/tmp/svgear-gpu-deps
mkdir -p "$deps"
for deb in .gpu-debs/*.deb; do dpkg -x "$deb" "$deps"; done
torch_root=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')
echo "torch: $torch_root ($(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)'))"

t0=$(date +%s)
# /usr/bin/g++, not the image's /opt/gcc (its CXX, CC and PATH): /opt/gcc's library folder holds
# only a static libstdc++, and once CMake's CUDA detection had listed that folder among its implicit
# link directories every binary linked its own libstdc++ beside the system one the wheel's LibTorch
# loads, and aborted in std::locale ("free(): invalid pointer") at exit and in some of ATen's error
# messages. So the configure sees no /opt/gcc at all.
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
# What every executable of ours chooses for itself (core/openmp_wait_policy.cpp), set here so that
# none starts itself again under compute-sanitizer or Nsight Compute.
export OMP_WAIT_POLICY=PASSIVE
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '^/opt/gcc' | paste -sd:)
export PATH
cmake --preset gpu \
  -DSVGEAR_TORCH_ROOT="$torch_root" -DSVGEAR_SENTENCEPIECE=OFF \
  -DCMAKE_PREFIX_PATH="$deps/usr" \
  -DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libz.a" \
  -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
  -DCMAKE_CXX_COMPILER=/usr/bin/g++ -DCMAKE_C_COMPILER=/usr/bin/gcc -DCMAKE_CUDA_HOST_COMPILER=/usr/bin/g++ > "$OUT/configure.log" 2>&1 || { tail -40 "$OUT/configure.log"; exit 1; }
if grep -qs /opt/gcc build/gpu/CMakeFiles/*/CMake*Compiler.cmake; then
  echo "configure: a compiler's implicit link directories name /opt/gcc (a second libstdc++); rm -rf build/gpu and rerun"
  exit 1
fi
# Jobs (SVGEAR_GPU_JOB); the short ones build only the CLI and drop the build logs on success
# (8 files come back):
#   full        (default) everything: build, tests, sanitizers, benches
#   step        the DiT step bench at STEP_SHAPE (default wan1.3b-480p) with STEP_ARGS (default
#               the three modes, 2 timed steps) within STEP_TIMEOUT seconds (default 400)
#   train       `svgear train` of PRESET (default shapes-s) for MINUTES (default 8) toward STEPS
#               (default 100000; +N: N more than the run has) at BATCH (default 32), ending on a
#               cool-down over the last COOLDOWN steps when set, then `svgear eval` of the export;
#               RUN names the run (default PRESET), FROM an export a new run continues (an
#               ablation branch: FROM=/tmp/svgear-runs/shapes-s/model RUN=shift1 SHIFT=1), INIT_FROM
#               another model's export a new run starts from (its weights only), SHIFT,
#               LR, MAX_OBJECTS, OBJECT_WEIGHT and TEXT_LAYERS change a new run's recipe (a run
#               from an export keeps its text layers unless TEXT_LAYERS says); see train_shapes below.
#               Leave OUT at the device tool's $OUT: the checkpoint lands in $OUT/RUN/checkpoint,
#               and one folder deeper is too deep to come back
#   tests       build everything and run the tests (no sanitizers, no benches)
#   test-train  build everything and run the tests, then train
#   build       build TARGETS (default svgear) and stop: the first step of ab-kernels.sh
#   backtrace   build TARGETS, then run the command in CMD under cuda-gdb (the image has no gdb)
#               and print the stack where it stops, e.g. for a crash seen only there
#   profile     build the CLI, then packaging/gpu/profile-kernels.sh (KERNELS picks the kernels,
#               SHAPE the bench shape;
#               BENCH=step profiles a DiT step instead of an attention call)
#   kernels     the sparse path's kernels: block-sparse attention (both kernels), routing and probe
#               tests, compute-sanitizer on them and on k-means, `attention_tests`, and `svgear bench attention` with
#               each kernel (the 720p shapes too unless SVGEAR_GPU_QUICK=1): a kernel-tuning
#               iteration in one call
job=${SVGEAR_GPU_JOB:-full}
# The run folder lives in /tmp, which survives between calls while the machine stays warm. A cold
# machine starts from a checkpoint carried in runs/PRESET when there is one, else it continues the
# shipped export resources/models/PRESET (svgear train --continue-from; docs/training.md); a
# shapes-l with neither starts from shapes-s's weights (--init-from: this machine's run if any).
# COMMIT (the source commit, which the copy there cannot tell) is recorded in the run's stages.
train_shapes() {
  local preset=${PRESET:-shapes-s}
  local name=${RUN:-$preset}
  local run=/tmp/svgear-runs/$name
  step_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$1/checkpoint/state.json" 2>/dev/null || echo -1; }
  if [ "$(step_of "runs/$name")" -gt "$(step_of "$run")" ]; then
    rm -rf "$run" && mkdir -p "$run" && cp -r "runs/$name/checkpoint" "runs/$name/loss.tsv" "$run/"
  fi
  local start=(--preset "$preset")
  if [ "$(step_of "$run")" -lt 0 ]; then
    if [ -n "${INIT_FROM:-}" ]; then
      start=(--preset "$preset" --init-from "$INIT_FROM")
    elif [ -n "${FROM:-}" ]; then
      start=(--continue-from "$FROM")
    elif [ -f "resources/models/$preset/model.json" ]; then
      start=(--continue-from "resources/models/$preset")
    elif [ "$preset" = shapes-l ]; then
      local source=resources/models/shapes-s
      [ -f /tmp/svgear-runs/shapes-s/model/model.json ] && source=/tmp/svgear-runs/shapes-s/model
      start=(--preset shapes-l --init-from "$source")
    fi
  fi
  local from=$(step_of "$run")
  if [ "$from" -lt 0 ] && [ "${start[0]}" = --continue-from ]; then
    from=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["training"]["steps"])' "${start[1]}/model.json")
  fi
  # A slice cut short inside its cool-down goes on to the same end: STEPS=<end> without COOLDOWN
  # (a new +N would restart the decay from the peak rate).
  local window_end
  window_end=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recipe"].get("cooldown_end", 0))' \
    "$run/checkpoint/state.json" 2>/dev/null || echo 0)
  if [ -n "${COOLDOWN:-}" ] && [ "$from" -ge 0 ] && [ "$window_end" -gt "$from" ]; then
    echo "$name is inside its cool-down (to step $window_end): call again with STEPS=$window_end and no COOLDOWN"
    return 2
  fi
  local steps=${STEPS:-100000}
  [ "${steps:0:1}" = + ] && steps=$(( $([ "$from" -lt 0 ] && echo 0 || echo "$from") + ${steps:1} ))
  local extra=()
  [ -n "${COOLDOWN:-}" ] && extra+=(--cooldown "$COOLDOWN")
  [ -n "${SHIFT:-}" ] && extra+=(--shift "$SHIFT")
  [ -n "${LR:-}" ] && extra+=(--lr "$LR")
  [ -n "${MAX_OBJECTS:-}" ] && extra+=(--max-objects "$MAX_OBJECTS")
  [ -n "${OBJECT_WEIGHT:-}" ] && extra+=(--object-weight "$OBJECT_WEIGHT")
  [ -n "${TEXT_LAYERS:-}" ] && extra+=(--text-layers "$TEXT_LAYERS")
  echo "training $name ($preset) from step $from to $steps (${start[*]} ${extra[*]})"
  ./build/gpu/app/svgear train "${start[@]}" --out "$run" --device cuda --log-every 200 --commit "${COMMIT:-unrecorded}" \
    --minutes "${MINUTES:-8}" --steps "$steps" --batch "${BATCH:-32}" --checkpoint-every 2000 "${extra[@]}"
  local rc=$?
  mkdir -p "$OUT/$name"
  cp -r "$run/checkpoint" "$run/loss.tsv" "$OUT/$name/"
  timeout "${EVAL_SECONDS:-120}" ./build/gpu/app/svgear eval --model "$run/model" --prompts "${EVAL_PROMPTS:-24}" --modes svgear \
    --device cuda | tail -8
  # Whether the model reads each word (the shape word's row at sigma 0.95 is the one to watch).
  timeout 60 ./build/gpu/app/svgear eval --model "$run/model" --text-influence --prompts 8 --device cuda | tail -6
  return $rc
}
case "$job" in
  full|tests|test-train) ;;
  build|backtrace)
    cmake --build build/gpu -j "$(nproc)" --target ${TARGETS:-svgear} > "$OUT/build.log" 2>&1 || { grep -B2 -A20 -m3 'error' "$OUT/build.log"; exit 1; }
    echo "build (${TARGETS:-svgear}): $(($(date +%s) - t0)) s"
    if [ "$job" = build ]; then
      rm -f "$OUT/build.log" "$OUT/configure.log"
      exit 0
    fi
    OMP_NUM_THREADS=2 cuda-gdb -batch -ex run -ex bt --args $CMD 2>&1 | grep -v '^\[New Thread\|^\[Thread\|^\[Detaching'
    exit 0 ;;
  kernels)
    cmake --build build/gpu -j "$(nproc)" --target svgear kernels_tests attention_tests > "$OUT/build.log" 2>&1 || { grep -B2 -A20 -m3 'error' "$OUT/build.log"; exit 1; }
    echo "build (svgear, kernels_tests, attention_tests): $(($(date +%s) - t0)) s"
    rm -f "$OUT/build.log" "$OUT/configure.log"
    failed=0  # the job's exit code: the first failing step's
    # The wgmma kernel's sm_90a machine code (bf16, d = 128), for instruction counts. No HGMMA
    # means the build lost the Hopper path.
    cuobjdump -sass -arch sm_90a build/gpu/kernels/CMakeFiles/svgear_kernels_cuda.dir/block_sparse_attention/block_sparse_attention_sm90.cu.o |
      awk '/Function : .*sm90_kernel.*nv_bfloat16Li128/{f=1; print; next} /Function : /{f=0} f' > "$OUT/sm90-bf16-d128.sass"
    hgmma=$(grep -c HGMMA "$OUT/sm90-bf16-d128.sass")
    echo "sm90 kernel SASS: $(grep -c '^ */\*[0-9a-f]*\*/' "$OUT/sm90-bf16-d128.sass") instructions, $hgmma HGMMA"
    [ "$hgmma" -gt 0 ] || { echo "no HGMMA in the sm90 kernel"; failed=3; }
    OMP_NUM_THREADS=4 timeout 90 build/gpu/tests/kernels/kernels_tests --gtest_filter='BlockSparse*:BlockRouting*:Route*:ErrorProbe*:ShortContext*' > "$OUT/kernels-tests.log" 2>&1
    kernels_rc=$?
    # A kernel that hangs (a pipeline barrier never completing) must not eat the benches' time too.
    [ $kernels_rc = 124 ] && { tail -5 "$OUT/kernels-tests.log"; echo "kernels_tests timed out"; exit 124; }
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |^\[       OK|Failure|Expected|Which is|kernel" "$OUT/kernels-tests.log" | head -40
    echo "kernels_tests BlockSparse*, BlockRouting*, Route*, ErrorProbe*, ShortContext*: rc=$kernels_rc"
    [ $failed != 0 ] || failed=$kernels_rc
    # The sparse backends end to end on the GPU (k-means, permutation, probe, routing, attention).
    OMP_NUM_THREADS=4 timeout 150 build/gpu/tests/attention/attention_tests > "$OUT/attention-tests.log" 2>&1
    attention_rc=$?
    grep -E "^\[  (PASSED|FAILED) |Failure" "$OUT/attention-tests.log" | head -10
    echo "attention_tests: rc=$attention_rc"
    [ $failed != 0 ] || failed=$attention_rc
    # Racecheck runs the full bf16 tests for minutes each (167 s for the wgmma one alone in the
    # ninth session), so both sanitizers take the one-variant test of both kernels (and the short
    # context kernel's test, small sizes).
    for tool in memcheck racecheck; do
      timeout 200 compute-sanitizer --tool "$tool" --error-exitcode 9 build/gpu/tests/kernels/kernels_tests \
        --gtest_filter=BlockSparseAttention.BothKernelsOnEveryCaseOnCuda:BlockRouting.RandomRowsMatchPerRowHostImplementationOnCuda:ErrorProbe.KernelMatchesFloat64Bf16OnCuda:ShortContextAttention.KernelMatchesFloat64OnCuda \
        > "$OUT/sanitizer-$tool.log" 2>&1
      sanitizer_rc=$?
      echo "compute-sanitizer $tool (both attention kernels' bf16 cases, routing, error probe, short context): rc=$sanitizer_rc ($(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitizer-$tool.log" | tail -1))"
      [ $failed != 0 ] || failed=$sanitizer_rc
      # The k-means kernels (both assignment paths, the update at 1-8 warps per cluster, its points
      # in cluster order) and the cluster means with and without the gather.
      timeout 200 compute-sanitizer --tool "$tool" --error-exitcode 9 build/gpu/tests/attention/attention_tests \
        --gtest_filter=KMeans.CudaKernelsBf16:KMeans.CudaUpdateWithManyWarpsPerClusterKeepsEmptyClusters:ClusterPermutation.ClusterMeansMatchLoopsAndAreZeroWhenEmpty \
        > "$OUT/sanitizer-$tool-kmeans.log" 2>&1
      sanitizer_rc=$?
      echo "compute-sanitizer $tool (k-means bf16 cases, the update at 8 warps per cluster, cluster means): rc=$sanitizer_rc ($(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitizer-$tool-kmeans.log" | tail -1))"
      [ $failed != 0 ] || failed=$sanitizer_rc
    done
    for kernel in fastest mma-sync; do
      timeout 150 ./build/gpu/app/svgear bench attention --shape wan1.3b-480p --device cuda --dtype bf16 --repeat 5 \
        --budgets 0.5,0.9 --kernel "$kernel" --json "$OUT/attention-wan1.3b-480p-$kernel.json" ||
        { echo "attention bench ($kernel) failed"; [ $failed != 0 ] || failed=4; }
    done
    for shape in wan14b-720p hunyuan-720p; do
      [ "${SVGEAR_GPU_QUICK:-0}" = 1 ] && break
      timeout 150 ./build/gpu/app/svgear bench attention --shape "$shape" --device cuda --dtype bf16 --repeat 3 \
        --budgets 0.9 --json "$OUT/attention-$shape.json" || { echo "attention bench $shape failed"; [ $failed != 0 ] || failed=4; }
    done
    # Logs and the SASS travel as one archive (the 8-file limit).
    (cd "$OUT" && tar czf kernels-logs.tgz kernels-tests.log attention-tests.log sm90-bf16-d128.sass $(ls sanitizer-*.log 2>/dev/null) &&
      rm -f kernels-tests.log attention-tests.log sm90-bf16-d128.sass sanitizer-*.log)
    exit $failed ;;
  profile)
    cmake --build build/gpu -j "$(nproc)" --target svgear > "$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
    echo "build (svgear only): $(($(date +%s) - t0)) s"
    rm -f "$OUT/build.log" "$OUT/configure.log"
    bash packaging/gpu/profile-kernels.sh
    exit $? ;;
  step|train)
    cmake --build build/gpu -j "$(nproc)" --target svgear > "$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
    echo "build (svgear only): $(($(date +%s) - t0)) s"
    rm -f "$OUT/build.log" "$OUT/configure.log"
    if [ "$job" = step ]; then
      step_shape=${STEP_SHAPE:-wan1.3b-480p}
      timeout "${STEP_TIMEOUT:-400}" ./build/gpu/app/svgear bench step --shape "$step_shape" \
        ${STEP_ARGS:---modes dense,svg2,svgear --steps 2} --device cuda --dtype bf16 --json "$OUT/step-$step_shape.json"
      exit $?
    fi
    train_shapes
    exit $? ;;
  *) echo "unknown SVGEAR_GPU_JOB '$job' (full, tests, step, train, test-train, kernels, profile, build or backtrace)"; exit 2 ;;
esac
cmake --build build/gpu -j "$(nproc)" > "$OUT/build.log" 2>&1 || { grep -B2 -A20 -m3 'error' "$OUT/build.log"; tail -20 "$OUT/build.log"; exit 1; }
t1=$(date +%s)
echo "build: $((t1 - t0)) s"

# Two threads per test: 8 tests × LibTorch's default 16 threads on 16 cores ran ~100× slower
# (240 s and unfinished, against 19 s for the whole suite with OMP_NUM_THREADS=2).
OMP_NUM_THREADS=2 timeout 240 ctest --test-dir build/gpu --output-on-failure -j 8 > "$OUT/ctest.log" 2>&1
ctest_rc=$?
t2=$(date +%s)
grep -E "tests passed|tests failed|Failed|\*\*\*" "$OUT/ctest.log" | tail -25
# A test that skips here and is not listed did not run where it should have: the run fails.
unexpected_skips=$(grep -oE 'Test +#[0-9]+: [^ ]+ [.]+ *\*\*\*Skipped' "$OUT/ctest.log" | awk '{print $3}' |
  grep -vxFf <(sed 's/#.*//; s/ *$//; /^$/d' packaging/gpu/expected-skips.txt))
if [ -n "$unexpected_skips" ]; then
  echo "skipped on the GPU machine, which should run them (packaging/gpu/expected-skips.txt):"
  echo "$unexpected_skips"
  [ $ctest_rc = 0 ] && ctest_rc=1
fi
# The GPU tests print what they measured; keep those lines for the notes.
grep -E "PSNR|relative|max abs|GPU|cuda" "$OUT/ctest.log" | grep -v "^ *[0-9]*/[0-9]* Test" | head -20
echo "ctest: rc=$ctest_rc, $((t2 - t1)) s"
if [ "$job" = tests ]; then
  (cd "$OUT" && tar czf logs.tgz configure.log build.log ctest.log && rm -f configure.log build.log ctest.log)
  exit $ctest_rc
fi
if [ "$job" = test-train ]; then
  train_shapes
  train_rc=$?
  (cd "$OUT" && tar czf logs.tgz configure.log build.log ctest.log && rm -f configure.log build.log ctest.log)
  [ $ctest_rc = 0 ] && exit $train_rc
  exit $ctest_rc
fi

# SVGEAR_GPU_QUICK=1 skips the sanitizers and the large bench shapes (a profiling run).
quick=${SVGEAR_GPU_QUICK:-0}
# compute-sanitizer on the CUDA kernels (the tests' small, awkward cases); a finding fails the job.
sanitized=(
  "kernels/kernels_tests BlockSparseAttention.KernelMatchesReferenceBf16OnCuda:BlockSparseAttention.MmaSyncKernelMatchesReferenceBf16OnCuda:ErrorProbe.KernelMatchesFloat64Bf16OnCuda:BlockRouting.RandomRowsMatchPerRowHostImplementationOnCuda"
  "attention/attention_tests KMeans.CudaKernelsBf16:ClusterPermutation.*"
)
for tool in memcheck racecheck; do
  [ "$quick" = 1 ] && break
  for entry in "${sanitized[@]}"; do
    set -- $entry
    log="$OUT/sanitizer-$tool-$(basename "$1").log"
    timeout 150 compute-sanitizer --tool "$tool" --error-exitcode 9 "build/gpu/tests/$1" --gtest_filter="$2" > "$log" 2>&1
    sanitizer_rc=$?
    echo "compute-sanitizer $tool $2: rc=$sanitizer_rc ($(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -1))"
    [ $ctest_rc != 0 ] || ctest_rc=$sanitizer_rc
  done
done

# Benchmark: a generation with a random model, CPU vs CUDA, from the run records.
bench="$OUT/bench"
mkdir -p "$bench"
# The model, videos and run records stay outside $OUT: the device tool brings back at most 8 files.
gen=/tmp/svgear-generation-bench
mkdir -p "$gen"
./build/gpu/app/svgear random-model --preset small --force --out "$gen/model" > /dev/null
./build/gpu/app/svgear info
for device in cuda cpu; do
  ./build/gpu/app/svgear generate --model "$gen/model" --prompt "a red circle moves left over a blue sky" \
    --seed 1 --steps 10 --device "$device" --quiet --output "$gen/$device.y4m" || echo "generate on $device failed"
done
./build/gpu/app/svgear generate --model "$gen/model" --prompt "a red circle moves left over a blue sky" \
  --seed 1 --steps 10 --device cuda --attention svgear --quiet --output "$gen/cuda-svgear.y4m" || echo "sparse generate failed"
# Attention bench at Wan2.1-1.3B 480p size: dense (cuDNN SDPA) against SVG2 / SVG-EAR (our CUDA
# kernels for every phase but the k-means++ init), synthetic clustered inputs.
timeout 150 ./build/gpu/app/svgear bench attention --shape wan1.3b-480p --device cuda --dtype bf16 --repeat 5 \
  --budgets 0.5,0.9 --json "$bench/attention-wan1.3b-480p.json" || echo "attention bench failed"
# Whole denoising steps of a Wan-1.3B-shaped DiT (random weights) at 480p: dense, SVG2, SVG-EAR.
timeout 400 ./build/gpu/app/svgear bench step --shape wan1.3b-480p --modes dense,svg2,svgear --steps 3 \
  --device cuda --dtype bf16 --json "$bench/step-wan1.3b-480p.json" || echo "step bench failed"
for shape in wan14b-720p hunyuan-720p; do
  [ "$quick" = 1 ] && break
  timeout 150 ./build/gpu/app/svgear bench attention --shape "$shape" --device cuda --dtype bf16 --repeat 3 \
    --budgets 0.9 --json "$bench/attention-$shape.json" || echo "attention bench $shape failed"
done

python3 - "$gen" <<'PY'
import json, sys, statistics
print("\n| device | steps | median step ms | total s | card |")
print("|---|---|---|---|---|")
for dev in ("cuda", "cuda-svgear", "cpu"):
    try:
        r = json.load(open(f"{sys.argv[1]}/{dev}.json"))
    except OSError:
        continue
    t = r["timings_ms"]
    print(f"| {dev} | {len(t['steps'])} | {statistics.median(t['steps']):.1f} | {t['total']/1000:.2f} | {r['device']['description']} |")
PY
# Build, configure and sanitizer logs travel as one archive (the 8-file limit).
(cd "$OUT" && tar czf logs.tgz configure.log build.log $(ls sanitizer-*.log 2>/dev/null) && rm -f configure.log build.log sanitizer-*.log)
exit $ctest_rc
