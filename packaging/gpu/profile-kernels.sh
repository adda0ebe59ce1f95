#!/usr/bin/env bash
# Runs ON THE GPU MACHINE after gpu-check.sh has built build/gpu: Nsight Compute on one warm SVG-EAR
# call at SHAPE's size (default wan1.3b-480p; the bench brackets its traced call with
# cudaProfilerStart/Stop), or with BENCH=step on one warm DiT step of that size (durations only; see
# below).
#   1. every kernel of the call with its duration, summed per kernel name (what the phases cost);
#   2. the full section set for each of our kernels (one launch each), key lines printed, the rest
#      archived as ncu.tgz in $OUT; with the warp stall reasons (sampled, per issued instruction)
#      and the SASS instructions where the warps stall most (profile-stalls.py), which say what
#      sets a latency-bound kernel's pace.
# SVGEAR_BIN profiles another build of svgear (ab-kernels.sh's variants); the durations also go to
# $OUT/durations.json. Findings and what each optimisation predicted and achieved: docs/kernel-notes.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT/ncu"
svgear=${SVGEAR_BIN:-./build/gpu/app/svgear}
shape=${SHAPE:-wan1.3b-480p}
bench=("$svgear" bench attention --shape "$shape" --device cuda --dtype bf16 --modes svgear
       --budgets 0.9 --repeat 1)
what="one traced SVG-EAR call at $shape"
# BENCH=step: one warm DiT step of that shape instead, durations only (a full section
# set per kernel would rerun the whole bench each time). The bench runs dense first, then
# STEP_MODES's other modes in order, and brackets one untimed step of the last one after its timed
# steps (--profile-step), so ncu's replays never land in a timed step; the sparse modes
# at top_p 0.25 (density ~0.19): where a step's time goes outside the attention call.
if [ "${BENCH:-attention}" = step ]; then
  modes=${STEP_MODES:-dense}
  bench=("$svgear" bench step --shape "$shape" --device cuda --dtype bf16 --steps 1
         --modes "$modes" --profile-step)
  profiled=$(tr ',' '\n' <<< "$modes" | grep -v '^dense$' | tail -1)
  [ -n "$profiled" ] && bench+=(--top-p 0.25)  # dense alone refuses the sparse modes' budget
  what="one warm DiT step (${profiled:-dense}) at $shape"
  SVGEAR_DURATIONS_ONLY=1
fi

ncu --clock-control none --profile-from-start off --metrics gpu__time_duration.sum --csv "${bench[@]}" \
  > "$OUT/ncu/durations.csv" 2> "$OUT/ncu/durations.err"
ncu_rc=$?  # the script's exit code: the first failing ncu's
python3 - "$OUT/ncu/durations.csv" "$what" "$OUT/durations.json" <<'PY'
import collections, csv, json, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
header, data = rows[0], rows[1:]
name, unit, value = header.index("Kernel Name"), header.index("Metric Unit"), header.index("Metric Value")
total, count = collections.Counter(), collections.Counter()
for r in data:
    scale = {"nsecond": 1e-6, "usecond": 1e-3, "msecond": 1.0, "ns": 1e-6, "us": 1e-3, "ms": 1.0}.get(r[unit], float("nan"))
    key = r[name].split("(")[0][:90]
    total[key] += float(r[value].replace(",", "")) * scale
    count[key] += 1
print(f"\nkernels of {sys.argv[2]}: {sum(count.values())} launches, {sum(total.values()):.3f} ms of kernel time")
print("| ms | launches | kernel |\n|---|---|---|")
for key, ms in total.most_common(40):
    print(f"| {ms:.3f} | {count[key]} | {key} |")
json.dump({key: {"ms": ms, "launches": count[key]} for key, ms in total.items()}, open(sys.argv[3], "w"), indent=1)
PY

# SVGEAR_DURATIONS_ONLY=1 stops here. KERNELS (names, each a regex) picks the kernels profiled in full,
# each at its first launch, or at its (LAUNCH_SKIP + 1)-th: the keys' k-means assignment is
# assign_sm90_kernel's third launch (LAUNCH_SKIP=2), the queries' side-stream passes coming first.
set -f  # KERNELS holds regexes: no globbing
for kernel in ${KERNELS:-block_sparse_attention_sm90_kernel block_routing_kernel assign_kernel probe_kernel update_centroids_kernel value_gather_kernel}; do
  [ "${SVGEAR_DURATIONS_ONLY:-0}" = 1 ] && break
  report=/tmp/svgear-ncu-$kernel
  rm -f "$report.ncu-rep"  # a run that profiles nothing must not report an earlier one
  ncu --clock-control none --profile-from-start off --set full --import-source yes -k "regex:$kernel" \
    --launch-skip "${LAUNCH_SKIP:-0}" -c 1 \
    -f -o "$report" "${bench[@]}" > "$OUT/ncu/$kernel.log" 2>&1
  rc=$?
  [ $ncu_rc != 0 ] || ncu_rc=$rc
  ncu -i "$report.ncu-rep" > "$OUT/ncu/$kernel.txt" 2>&1
  ncu -i "$report.ncu-rep" --page raw --csv > "$OUT/ncu/$kernel-raw.csv" 2>&1
  ncu -i "$report.ncu-rep" --page source --print-source sass --csv > "$OUT/ncu/$kernel-sass.csv" 2>&1
  python3 packaging/gpu/profile-stalls.py "$OUT/ncu/$kernel-raw.csv" "$OUT/ncu/$kernel-sass.csv" | tee "$OUT/ncu/$kernel-stalls.txt" | head -45
  echo "--- $kernel"
  grep -E "^ +(Duration|Compute \(SM\) Throughput|Memory Throughput|DRAM Throughput|L2 Cache Throughput|Registers Per Thread|Achieved Occupancy|Theoretical Occupancy|Warp Cycles Per Issued Instruction|Issue Slots Busy|Executed Ipc Active|Block Limit Registers|Block Limit Shared Mem|Dynamic Shared Memory Per Block) " \
    "$OUT/ncu/$kernel.txt" | head -16
  grep -E "^ +(OPT|WRN) " "$OUT/ncu/$kernel.txt" | head -8
done
(cd "$OUT" && tar czf ncu.tgz ncu && rm -rf ncu)
exit $ncu_rc
