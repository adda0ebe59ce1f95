#!/usr/bin/env bash
# Kernel A/B in one device call: several revisions' core/, kernels/ and tests/ built into the same tree on
# the same machine, each one's kernel tests (attention, routing, probe) and attention_tests run,
# then their attention benches interleaved (A B C A B C), so the comparison holds no lease-to-lease
# or machine-to-machine difference (docs/kernel-notes.md). SANITIZE (a kernels_tests filter, e.g.
# 'ErrorProbe.KernelMatchesFloat64Bf16OnCuda') runs compute-sanitizer memcheck and racecheck on
# each variant's build of those tests, SANITIZE_SECONDS (default 120) each; the winner's `kernels`
# job runs the full set before it is merged.
#   HERE:    packaging/gpu/ab-kernels.sh export REV...      e.g. export main attn-pingpong3 attn-vbias
#            (the first revision is the tree; each one's core/, kernels/ and tests/ go to .gpu-src/variants/)
#   DEVICE:  cd .gpu-src && bash packaging/gpu/ab-kernels.sh run     carrying [".gpu-src"]
# ROUNDS (default 2) bench rounds; BENCH_ARGS overrides the bench's shape and budgets, several
# configurations separated by ';' (e.g. "--shape wan1.3b-480p --repeat 5; --shape wan14b-720p --budgets 0.9 --repeat 3").
# STEP_ARGS (e.g. "--shape wan1.3b-480p --modes dense,svgear --steps 2") benches whole DiT steps
# (`svgear bench step`) instead, or as well when BENCH_ARGS is set too, and each variant also runs
# model_tests (the DiT against upstream).
# KERNEL_TESTS overrides the kernels_tests filter (default: the sparse attention kernels' tests), e.g.
# 'RmsNormRope*' for a variant of another kernel.
# DURATIONS=1 then runs each variant's binary under Nsight Compute (profile-kernels.sh, durations only:
# one traced SVG-EAR call, or with DURATIONS_BENCH=step one warm DiT step) and tables the kernels'
# times side by side: each kernel replayed alone, so the power cap does not blur them.
# nvidia-smi samples the SM clock and its limiters during each bench: a table says how much of each
# bench ran held back by the power cap (the H200 reaches its 700 W in DiT steps, docs/gpu-runs.md).
# `run` exits 1 when any variant's build, tests or bench failed (after the tables of the others).
set -uo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in
  export)
    shift
    [ $# -ge 2 ] || { echo "give at least two revisions"; exit 2; }
    for rev in "$@"; do
      git rev-parse --verify --quiet "$rev^{commit}" > /dev/null || { echo "unknown revision '$rev'"; exit 2; }
      case "$rev" in */*) echo "'$rev': a variant's name is a file name, no '/'"; exit 2 ;; esac
      # A variant brings its whole core/, kernels/ and tests/: one cut before later changes of the first
      # revision would undo them too, and the A/B would credit that to the branch.
      git merge-base --is-ancestor "$1" "$rev" ||
        echo "warning: $rev does not contain $1; rebase it first, or the A/B also measures what $1 changed since"
    done
    bash packaging/gpu/export-head.sh "$1" .gpu-src || exit 1
    for rev in "$@"; do
      mkdir -p ".gpu-src/variants/$rev"
      git archive "$rev" core kernels tests | tar -x -C ".gpu-src/variants/$rev" || { echo "$rev: export failed"; exit 1; }
      git rev-parse --short "$rev" > ".gpu-src/variants/$rev/commit"
    done
    printf '%s\n' "$@" > .gpu-src/variants/order
    echo "variants: $*" ;;
  run)
    OUT=${OUT:-$PWD/gpu-out}
    mkdir -p "$OUT"
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
    # The tree (its first variant) configured and built once; each variant then rebuilds what it
    # changes. No sanitizers here: the winner's kernels job runs them.
    targets="svgear kernels_tests attention_tests${STEP_ARGS:+ model_tests}"
    OUT=$OUT/first SVGEAR_GPU_JOB=build TARGETS="$targets" bash packaging/gpu/gpu-check.sh > "$OUT/first.log" 2>&1 ||
      { echo "the first build failed"; tail -30 "$OUT/first.log"; exit 1; }
    tail -1 "$OUT/first.log"
    mapfile -t variants < variants/order
    failed=0
    for v in "${variants[@]}"; do
      # The variant's core/, kernels/ and tests/ exactly, copying only the files that differ, so the build
      # recompiles only what the variants change.
      find core kernels tests -type f | while read -r f; do [ -e "variants/$v/$f" ] || rm -f "$f"; done
      (cd "variants/$v" && find core kernels tests -type f) | while read -r f; do
        mkdir -p "$(dirname "$f")"
        cmp -s "variants/$v/$f" "$f" || cp "variants/$v/$f" "$f"
      done
      rm -f "/tmp/svgear-$v"  # a warm machine keeps /tmp: never bench an earlier call's binary
      cmake --build build/gpu -j "$(nproc)" --target $targets > "$OUT/build-$v.log" 2>&1 ||
        { echo "$v: build failed"; grep -m3 -A10 error "$OUT/build-$v.log"; failed=1; continue; }
      cp build/gpu/app/svgear "/tmp/svgear-$v"
      # A diagnostic variant (diag-*) removes work to time what is left; its results are wrong by design.
      case "$v" in diag-*) echo "$v ($(cat "variants/$v/commit")): a diagnostic, tests skipped"; continue ;; esac
      filter=${KERNEL_TESTS:-BlockSparse*:BlockRouting*:Route*:ErrorProbe*}
      OMP_NUM_THREADS=4 timeout 120 build/gpu/tests/kernels/kernels_tests --gtest_filter="$filter" > "$OUT/tests-$v.log" 2>&1
      rc=$?  # before any command substitution below, which would set $? again
      [ $rc = 0 ] || failed=1
      echo "$v ($(cat "variants/$v/commit")): kernels_tests $filter: rc=$rc ($(grep -cE '^\[       OK' "$OUT/tests-$v.log") ok)"
      # The sparse backends end to end: k-means, permutation, probe, routing, attention.
      OMP_NUM_THREADS=4 timeout 150 build/gpu/tests/attention/attention_tests > "$OUT/tests-$v-attention.log" 2>&1
      rc=$?
      [ $rc = 0 ] || failed=1
      echo "$v: attention_tests: rc=$rc ($(grep -cE '^\[       OK' "$OUT/tests-$v-attention.log") ok, $(grep -cE '^\[  FAILED  \]' "$OUT/tests-$v-attention.log") failed lines)"
      if [ -n "${SANITIZE:-}" ]; then
        for tool in memcheck racecheck; do
          timeout "${SANITIZE_SECONDS:-120}" compute-sanitizer --tool "$tool" --error-exitcode 9 \
            build/gpu/tests/kernels/kernels_tests --gtest_filter="$SANITIZE" > "$OUT/sanitizer-$v-$tool.log" 2>&1
          rc=$?  # compute-sanitizer's own (9: it found errors; 124: out of time)
          [ $rc = 0 ] || failed=1
          echo "$v: $tool $SANITIZE: rc=$rc ($(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitizer-$v-$tool.log" | tail -1 | sed 's/^=* *//'))"
        done
      fi
      if [ -n "${STEP_ARGS:-}" ]; then
        vectors=$PWD/shared/testvectors; [ -d "$vectors" ] || vectors=$PWD/../shared/testvectors
        SVGEAR_TESTVECTORS=$vectors SVGEAR_BUILD_DIR=$PWD/build/gpu OMP_NUM_THREADS=4 timeout 150 \
          build/gpu/tests/model/model_tests > "$OUT/tests-$v-model.log" 2>&1
        rc=$?
        [ $rc = 0 ] || failed=1
        echo "$v: model_tests: rc=$rc ($(grep -cE '^\[       OK' "$OUT/tests-$v-model.log") ok, $(grep -cE '^\[  FAILED  \]' "$OUT/tests-$v-model.log") failed lines)"
      fi
      rm -f "$OUT/build-$v.log"
    done
    # Each configuration "KIND ARGS": the attention bench's (BENCH_ARGS, or its default without
    # STEP_ARGS) and the step bench's (STEP_ARGS), several of each separated by ';', each benched in
    # every round.
    configs=()
    if [ -n "${BENCH_ARGS:-}" ] || [ -z "${STEP_ARGS:-}" ]; then
      IFS=';' read -r -a kind_configs <<< "${BENCH_ARGS:---shape wan1.3b-480p --budgets 0.5,0.9 --repeat 5}"
      for c in "${kind_configs[@]}"; do configs+=("attention $c"); done
    fi
    if [ -n "${STEP_ARGS:-}" ]; then
      IFS=';' read -r -a kind_configs <<< "$STEP_ARGS"
      for c in "${kind_configs[@]}"; do configs+=("step $c"); done
    fi
    for round in $(seq "${ROUNDS:-2}"); do
      for c in "${!configs[@]}"; do
        read -r kind bench_line <<< "${configs[$c]}"
        read -r -a bench_args <<< "$bench_line"
        limit=120
        [ "$kind" = step ] && limit=400
        for v in "${variants[@]}"; do
          [ -x "/tmp/svgear-$v" ] || continue
          log="$OUT/bench-$v-$round-$c.log"
          # The SM clock and its limiters while the bench runs: under sustained load the card hits its
          # power cap and slows, so a difference between variants can be the card's, not the code's.
          nvidia-smi --query-gpu=clocks.sm,power.draw,clocks_event_reasons.active --format=csv,noheader,nounits \
            -lms 200 > "$OUT/clocks-$v-$round-$c.csv" 2> /dev/null &
          sampler=$!
          timeout "$limit" "/tmp/svgear-$v" bench "$kind" --device cuda --dtype bf16 "${bench_args[@]}" \
            --json "$OUT/bench-$v-$round-$c.json" > "$log" 2>&1 || { echo "$v: bench round $round ($c) failed:"; tail -5 "$log"; failed=1; }
          kill "$sampler" 2> /dev/null; wait "$sampler" 2> /dev/null
        done
      done
    done
    if [ "${DURATIONS:-0}" = 1 ]; then
      for v in "${variants[@]}"; do
        [ -x "/tmp/svgear-$v" ] || continue
        SVGEAR_BIN="/tmp/svgear-$v" SVGEAR_DURATIONS_ONLY=1 BENCH="${DURATIONS_BENCH:-attention}" \
          OUT="$OUT/durations-$v" bash packaging/gpu/profile-kernels.sh > "$OUT/durations-$v.log" 2>&1 ||
          { echo "$v: durations failed:"; tail -5 "$OUT/durations-$v.log"; failed=1; }
      done
    fi
    # One row per variant and mode: the call and attention phase (each round's figures), and the
    # other traced phases, medians over the rounds.
    python3 - "$OUT" "${variants[@]}" <<'PY'
import glob, json, re, statistics, sys
out, variants = sys.argv[1], sys.argv[2:]
def runs(v):  # bench-VARIANT-ROUND-CONFIG.json exactly: a variant named like another's prefix takes none of its files
    return [json.load(open(p)) for p in sorted(glob.glob(f"{out}/bench-*.json"))
            if re.fullmatch(rf"bench-{re.escape(v)}-\d+-\d+\.json", p.rsplit("/", 1)[-1])]
def is_step(b): return "num_steps" in b  # a `bench step` result
if any(is_step(b) for v in variants for b in runs(v)):  # ms per step per round
    print("\n| variant | shape | mode | density | ms/step (rounds) | cold step ms (median) | rel L2 vs dense (last round) |\n|---|---|---|---|---|---|---|")
    for v in variants:
        rows = {}
        for b in filter(is_step, runs(v)):
            for r in b.get("rows", []):
                rows.setdefault((b.get("shape"), r["mode"]), []).append(r)
        for (shape, mode), rs in rows.items():
            d = rs[0].get("density")
            density = "n/a" if d is None else f"{d:.3f}"
            steps = [r["step_ms"] for r in rs]
            cold = statistics.median(r["cold_step_ms"] for r in rs)
            rounds = ", ".join(f"{x:.1f}" for x in steps)
            print(f"| {v} | {shape} | {mode} | {density} | {statistics.median(steps):.1f} ({rounds}) | "
                  f"{cold:.1f} | {rs[-1]['relative_l2_vs_first']:.2e} |")
# The card while each bench ran: the median SM clock over the busy samples (above 250 W) and the
# share of those the power cap or a slowdown held back (clocks_event_reasons: SW power cap 0x4, HW
# slowdown 0x8, SW/HW thermal 0x20/0x40, power brake 0x80).
print("\n| variant | round-config | busy samples | SM MHz (median, min) | held back by power or heat |\n|---|---|---|---|---|")
for v in variants:
    for p in sorted(glob.glob(f"{out}/clocks-{glob.escape(v)}-*.csv")):
        m = re.fullmatch(rf"clocks-{re.escape(v)}-(\d+-\d+)\.csv", p.rsplit("/", 1)[-1])
        if not m: continue
        busy = []
        for line in open(p):
            f = [x.strip() for x in line.split(",")]
            try: busy.append((int(f[0]), float(f[1]), int(f[2], 16)))
            except (ValueError, IndexError): continue
        busy = [b for b in busy if b[1] > 250]
        if not busy: continue
        held = sum(1 for b in busy if b[2] & 0xEC) / len(busy)
        print(f"| {v} | {m.group(1)} | {len(busy)} | {statistics.median(b[0] for b in busy):.0f}, "
              f"{min(b[0] for b in busy)} | {held:.0%} |")
# DURATIONS=1: the kernels' times per variant (ms summed over launches), the first variant's largest first.
durations = {}
for v in variants:
    try: durations[v] = json.load(open(f"{out}/durations-{v}/durations.json"))
    except (OSError, ValueError): pass
if durations:
    names = list(durations)
    kernels = sorted({k for d in durations.values() for k in d}, key=lambda k: -durations[names[0]].get(k, {"ms": 0})["ms"])
    print("\n| kernel (ncu, ms) | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    print("| **total** | " + " | ".join(f"{sum(x['ms'] for x in durations[n].values()):.3f}" for n in names) + " |")
    for k in kernels[:25]:
        print(f"| {k[:70]} | " + " | ".join(f"{durations[n][k]['ms']:.3f}" if k in durations[n] else "–" for n in names) + " |")
if all(is_step(b) for v in variants for b in runs(v)):
    sys.exit(0)
print("\n| variant | shape | mode | top_p | density | ms/call (rounds) | attention ms (rounds) | kmeans / permute / probe / routing ms |\n|---|---|---|---|---|---|---|---|")
for v in variants:
    rows = {}
    for bench in [b for b in runs(v) if not is_step(b)]:
        for r in bench.get("rows", []):
            if "unavailable" in r: continue
            key = (bench.get("shape", {}).get("name", "?"), r.get("mode"), r.get("top_p"))
            rows.setdefault(key, []).append(r)
    for (shape, mode, top_p), rs in rows.items():
        calls = [r.get("median_ms", float("nan")) for r in rs]
        att = [r.get("phases_ms", {}).get("attention", float("nan")) for r in rs]
        density = rs[0].get("density")  # a number, or null where the mode has none
        density = "n/a" if density is None else f"{density:.3f}"
        phases = " / ".join(
            f"{statistics.median(r.get('phases_ms', {}).get(p, float('nan')) for r in rs):.3f}"
            for p in ("kmeans", "permute", "probe", "routing")) if rs[0].get("phases_ms") else "–"
        print(f"| {v} | {shape} | {mode} | {top_p} | {density} | "
              f"{statistics.median(calls):.3f} ({', '.join(f'{c:.2f}' for c in calls)}) | "
              f"{statistics.median(att):.3f} ({', '.join(f'{a:.2f}' for a in att)}) | {phases} |")
PY
    # Logs and JSONs travel as one archive (the device tool brings back 8 files).
    (cd "$OUT" && shopt -s nullglob && logs=(first.log tests-*.log sanitizer-*.log bench-*.json bench-*.log clocks-*.csv durations-*) &&
      tar czf ab-logs.tgz "${logs[@]}" && rm -rf "${logs[@]}" first)
    exit $failed ;;
  *) echo "usage: ab-kernels.sh export REV... | run"; exit 2 ;;
esac
