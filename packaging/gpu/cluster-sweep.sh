#!/usr/bin/env bash
# Runs ON THE GPU MACHINE after a build (SVGEAR_GPU_JOB=tests, kernels or build): how the query and
# key cluster counts trade speed against fidelity. The spec's 200 / 1000 for Wan-1.3B 480p is an
# inference, not an official script (svg-ear-spec.md §2.8); this measures the alternatives:
#   1. `svgear bench attention --shape wan1.3b-480p` per PAIRS entry (synthetic clustered inputs):
#      ms per call against cuDNN dense, density, rel L2 against dense, overhead share, phases;
#   2. real activations: one self-attention call of the shipped shapes-l model (17,408 tokens,
#      4 heads × 64) dumped by `svgear generate --dump-attention`, benched per REAL_PAIRS entry;
#   3. `svgear eval --model resources/models/shapes-l` per REAL_PAIRS entry: whole clips, PSNR /
#      SSIM of the SVG-EAR clips against the dense ones, attributes right.
# Prints one table last; the JSON files go to $OUT/cluster-sweep.tgz.
#   OUT=$OUT bash packaging/gpu/cluster-sweep.sh
# A quick dry run here: SVGEAR=build/default/app/svgear DEVICE=cpu SHAPE=small PAIRS="64/256 32/128" REAL_PAIRS=""
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/gpu-out}
svgear=${SVGEAR:-build/gpu/app/svgear}
pairs=${PAIRS:-"200/1000 200/500 128/1000 128/512 100/500 64/256"}
real_pairs=${REAL_PAIRS-"200/1000 100/500 64/256"}
budgets=${BUDGETS:-0.9,0.5}
shape=${SHAPE:-wan1.3b-480p} device=${DEVICE:-cuda}
dtype=$([ "$device" = cpu ] && echo f32 || echo bf16)
work=$(mktemp -d)
[ -x "$svgear" ] || { echo "no $svgear: build first (SVGEAR_GPU_JOB=build)"; exit 1; }

for pair in $pairs; do
  q=${pair%/*} k=${pair#*/}
  timeout 120 "$svgear" bench attention --shape "$shape" --modes svgear --budgets "$budgets" --repeat 5 \
    --device "$device" --dtype "$dtype" --q-clusters "$q" --k-clusters "$k" --json "$work/syn-$q-$k.json" > "$work/syn-$q-$k.log" 2>&1 ||
    { echo "bench $shape $pair failed:"; tail -5 "$work/syn-$q-$k.log"; }
done

model=resources/models/shapes-l
if [ -n "$real_pairs" ]; then
  timeout 120 "$svgear" generate --model "$model" --prompt "a red circle moves left over a blue sky" --device "$device" \
    --attention svgear --dump-attention "$work/shapes-l-qkv.safetensors" --output "$work/shapes-l.y4m" --quiet \
    > "$work/dump.log" 2>&1 || { echo "dump failed:"; tail -5 "$work/dump.log"; }
fi
for pair in $real_pairs; do
  q=${pair%/*} k=${pair#*/}
  if [ -f "$work/shapes-l-qkv.safetensors" ]; then
    timeout 120 "$svgear" bench attention --inputs "$work/shapes-l-qkv.safetensors" --modes svgear --budgets "$budgets" \
      --repeat 5 --device "$device" --dtype "$dtype" --q-clusters "$q" --k-clusters "$k" --json "$work/real-$q-$k.json" \
      > "$work/real-$q-$k.log" 2>&1 || { echo "bench real $pair failed:"; tail -5 "$work/real-$q-$k.log"; }
  fi
  timeout 200 "$svgear" eval --model "$model" --prompts "${EVAL_PROMPTS:-8}" --modes svgear --device "$device" \
    --q-clusters "$q" --k-clusters "$k" --json "$work/eval-$q-$k.json" > "$work/eval-$q-$k.log" 2>&1 ||
    { echo "eval $pair failed:"; tail -5 "$work/eval-$q-$k.log"; }
done

(cd "$work" && tar czf "$OUT/cluster-sweep.tgz" ./*.json ./*.log)
python3 - "$work" <<'EOF'
import glob, json, os, sys
work = sys.argv[1]
print("\ncluster counts (query / key), SVG-EAR, one run on this card")
print(f"{'inputs':<13} {'Qc/Kc':>9} {'top_p':>5} {'density':>7} {'rel L2':>8} {'ms/call':>8} {'xdense':>6} {'overhead':>8}  phases ms (kmeans/permute/probe/routing/attention)")
def key(path):
    q, k = os.path.basename(path)[:-5].split("-")[-2:]
    return (int(q), int(k))
for kind in ("syn", "real"):
    for path in sorted(glob.glob(f"{work}/{kind}-*.json"), key=key, reverse=True):
        d = json.load(open(path))
        s = d["shape"]
        name = s["name"] if kind == "syn" else "shapes-l"
        dense = next(r for r in d["rows"] if r["mode"] == "dense")
        for r in d["rows"]:
            if r["mode"] == "dense":
                continue
            p = r["phases_ms"]
            phases = " / ".join(f"{p[n]:.2f}" for n in ("kmeans", "permute", "probe", "routing", "attention"))
            print(f"{name:<13} {s['q_clusters']:>4}/{s['k_clusters']:<4} {r['top_p']:>5.2f} {r['density']:>7.3f} "
                  f"{r['relative_l2_vs_dense']:>8.2e} {r['median_ms']:>8.3f} {r['speedup_vs_dense']:>5.2f}x "
                  f"{100 * r['overhead_share']:>7.0f}%  {phases}")
        print(f"{name:<13} {s['q_clusters']:>4}/{s['k_clusters']:<4} dense {dense['median_ms']:.3f} ms")
def na(x): return "n/a" if x is None else x  # the dense row has nothing to compare with
print("\nshapes-l whole clips (svgear eval): SVG-EAR against dense")
for path in sorted(glob.glob(f"{work}/eval-*.json"), key=key, reverse=True):
    d = json.load(open(path))
    a = d["sparse_attention"]
    for r in d["rows"]:
        print(f"  {a['q_clusters']:>4}/{a['k_clusters']:<4} {r['mode']:<7} all attributes {100 * r['all_attributes']:5.1f}%  "
              f"PSNR {na(r['mean_psnr_db_vs_dense'])}  SSIM {na(r['mean_ssim_vs_dense'])}  "
              f"{r['seconds_per_clip']:.2f} s/clip")
EOF
rm -rf "$work"
